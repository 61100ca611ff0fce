"""The website chat widget in headless Chromium."""
