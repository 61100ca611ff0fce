"""The model graph run node after node, without dask, for one message at a time.

Rasa 3.6 runs every parse and every prediction through `DaskGraphRunner`, which rebuilds a dask
graph each time, walks its dependencies again (recursively, without memory) and schedules one
task at a time: about a tenth of the Rasa server's CPU per message (`make bench`). This runner
calls the same nodes in the same dependency order and remembers the order per set of targets.

Rasa's model loader takes the runner class as an argument (`rasa.engine.loader.
load_predict_graph_runner`); the processor passes `DaskGraphRunner` there, so our model-loading
patch (`patches`) passes this class instead. tests/rasa_adapter/test_graph_runner.py checks the
parses and predictions equal those of Rasa's runner.
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphNode, GraphNodeHook, GraphSchema
from rasa.engine.runner.interface import GraphRunner
from rasa.engine.storage.storage import ModelStorage


class SequentialGraphRunner(GraphRunner):
    """Rasa's `DaskGraphRunner` contract, run in a plain loop."""

    def __init__(
        self,
        graph_schema: GraphSchema,
        model_storage: ModelStorage,
        execution_context: ExecutionContext,
        hooks: list[GraphNodeHook] | None = None,
    ) -> None:
        self._graph_schema = graph_schema
        self._instantiated_nodes: dict[str, GraphNode] = {
            name: GraphNode.from_schema_node(name, node, model_storage, execution_context, hooks)
            for name, node in graph_schema.nodes.items()
        }
        self._execution_context = execution_context
        self._plans: dict[tuple[str, ...], dict[str, tuple[str, ...]]] = {}

    @classmethod
    def create(
        cls,
        graph_schema: GraphSchema,
        model_storage: ModelStorage,
        execution_context: ExecutionContext,
        hooks: list[GraphNodeHook] | None = None,
    ) -> SequentialGraphRunner:
        return cls(graph_schema, model_storage, execution_context, hooks)

    def _plan(self, targets: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        """The nodes the targets depend on, each after the nodes it needs, with what it needs."""
        plan = self._plans.get(targets)
        if plan is None:
            schema = self._graph_schema.minimal_graph_schema(list(targets))
            needs = {name: tuple(node.needs.values()) for name, node in schema.nodes.items()}
            graph = {
                name: [need for need in wanted if need in needs] for name, wanted in needs.items()
            }
            plan = {name: needs[name] for name in TopologicalSorter(graph).static_order()}
            self._plans[targets] = plan
        return plan

    def run(
        self, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
    ) -> dict[str, Any]:
        """`DaskGraphRunner.run`: inputs are handed to nodes as `(name, value)` pairs (an input
        named like a node replaces it, as in a dask graph), a need nobody provides is passed as
        its bare name (the node then warns, as before), a `RuntimeError` becomes a
        `GraphRunError`."""
        run_targets = list(targets) if targets else self._graph_schema.target_names
        plan = self._plan(tuple(run_targets))
        results: dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in plan:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none of "
                    f"the input names passed to the `run` method are the same as node names in "
                    f"the graph schema."
                )
            results[name] = (name, value)
        try:
            for name, needs in plan.items():
                if name not in results:
                    node = self._instantiated_nodes[name]
                    results[name] = node(*(results.get(need, need) for need in needs))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(results[target] for target in run_targets)
