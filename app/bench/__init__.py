"""The dashboard's benchmarks, reached only through ``hybridlab bench`` (entry points in
pyproject.toml): the cost of live views during training (``live_view``) and the dashboard under
load, a real ``hybridlab serve`` with N headless Chromium sessions (``load``, with
``browser_sessions`` and ``server_memory``). Nothing in the page carries a hook for them."""
