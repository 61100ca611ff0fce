"""CPU hot spots in how Rasa 3.6 runs the trained model, found by profiling `make bench`.

Together they were about a sixth of the Rasa server's CPU per message:
- Every parse and every prediction ran the model graph through dask, which rebuilt the graph,
  re-walked its dependencies (recursively, without memory) and scheduled one task at a time.
  We run the same nodes in the same dependency order, remembering the order per set of targets.
- The logistic-regression intent classifier stacked every featurizer's sparse features twice
  over (token and sentence level, though it reads only the sentence row) with scipy's general
  block-matrix code, slow for one-row matrices. We join the sentence rows once.
- Policies replay the conversation into fresh trackers several times per message, and each new
  tracker copies every slot of the domain with `copy.copy`, whose generic protocol made that
  a twelfth of the CPU. Slots get a `__copy__` that does the same shallow copy directly.
- Loading the model loaded the spaCy pipeline twice (the graph has a node that provides it and
  one that runs it): half a second of every start. Both now get the one pipeline.

As in `speedups`, the results are the same as Rasa's own: tests/rasa_adapter/test_speedups.py
compares them, so a Rasa upgrade that changes these internals fails there first.
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import Any

# Rasa's own functions, recorded the first time we patch and never overwritten.
_originals: dict[str, Any] = {}
_PLANS = "_massagebot_plans"


# --- the graph runner ----------------------------------------------------------------------------


def _plan(runner: Any, targets: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The nodes the targets depend on, each after the nodes it needs, with what it needs."""
    plans = runner.__dict__.setdefault(_PLANS, {})
    plan = plans.get(targets)
    if plan is None:
        schema = runner._graph_schema.minimal_graph_schema(list(targets))
        needs = {name: tuple(node.needs.values()) for name, node in schema.nodes.items()}
        graph = {name: [need for need in wanted if need in needs] for name, wanted in needs.items()}
        plan = {name: needs[name] for name in TopologicalSorter(graph).static_order()}
        plans[targets] = plan
    return plan


def run_graph(
    self: Any, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
) -> dict[str, Any]:
    """`DaskGraphRunner.run` without dask, for one message at a time.

    Same contract: inputs are handed to nodes as `(name, value)` pairs (an input named like a
    node replaces it, as in a dask graph), a need nobody provides is passed as its bare name
    (the node then warns, as before), and a `RuntimeError` becomes a `GraphRunError`.
    """
    from rasa.engine.exceptions import GraphRunError

    run_targets = list(targets) if targets else self._graph_schema.target_names
    plan = _plan(self, tuple(run_targets))
    results: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in plan:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the "
                f"input names passed to the `run` method are the same as node names in the "
                f"graph schema."
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


# --- intent classifier features ------------------------------------------------------------------


def _sentence_row(message: Any) -> Any:
    """The message's sparse and dense sentence features side by side, as Rasa's
    `Message.get_sparse_features` + `LogisticRegressionClassifier._create_X` join them.

    Written out because scipy's `hstack` checks and converts each block separately: four times
    slower than this for the one-row matrices of a single message.
    """
    import numpy as np
    from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
    from scipy.sparse import coo_matrix, csr_matrix

    sparse = [
        feature.features
        for feature in message.features
        if feature.attribute == TEXT
        and feature.type == FEATURE_TYPE_SENTENCE
        and feature.is_sparse()
    ]
    dense = message.get_dense_features(attribute=TEXT)[1]
    blocks = [coo_matrix(block) for block in sparse]
    if dense is not None:
        blocks.append(coo_matrix(dense.features))
    if not blocks:
        return csr_matrix((1, 0))
    offsets = np.cumsum([0] + [block.shape[1] for block in blocks])
    data = np.concatenate([block.data for block in blocks])
    rows = np.concatenate([block.row for block in blocks])
    cols = np.concatenate(
        [block.col + offset for block, offset in zip(blocks, offsets[:-1], strict=True)]
    )
    return csr_matrix((data, (rows, cols)), shape=(blocks[0].shape[0], int(offsets[-1])))


def create_x(self: Any, messages: list[Any]) -> Any:
    """`LogisticRegressionClassifier._create_X` (used to predict, not to train)."""
    from scipy.sparse import vstack

    return vstack([_sentence_row(message) for message in messages])


# --- slots ---------------------------------------------------------------------------------------


def copy_slot(self: Any) -> Any:
    """What `copy.copy` does for a slot (a new instance sharing the attribute values), without
    going through `__reduce_ex__`: four times faster."""
    new = self.__class__.__new__(self.__class__)
    new.__dict__.update(self.__dict__)
    return new


# --- spaCy ---------------------------------------------------------------------------------------


_spacy_models: dict[str, Any] = {}


def load_spacy_model(spacy_model_name: str) -> Any:
    """`SpacyNLP.load_model`, once per model name and process (the pipeline is only read)."""
    loaded = _spacy_models.get(spacy_model_name)
    if loaded is None:
        loaded = _originals["load_spacy"](spacy_model_name)
        _spacy_models[spacy_model_name] = loaded
    return loaded


def install() -> None:
    """Patch Rasa (idempotent)."""
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.nlu.classifiers.logistic_regression_classifier import (
        LogisticRegressionClassifier,
    )
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.core.slots import Slot

    _originals.setdefault("run", DaskGraphRunner.run)
    _originals.setdefault("create_x", LogisticRegressionClassifier._create_X)
    _originals.setdefault("load_spacy", SpacyNLP.__dict__["load_model"].__func__)
    DaskGraphRunner.run = run_graph  # type: ignore[method-assign]
    LogisticRegressionClassifier._create_X = create_x  # type: ignore[method-assign]
    SpacyNLP.load_model = staticmethod(load_spacy_model)  # type: ignore[method-assign]
    if "__copy__" not in Slot.__dict__:  # Rasa's slots have none: `copy.copy` is generic
        Slot.__copy__ = copy_slot  # type: ignore[attr-defined]
