"""Where the dashboard's trainings run (no panel import): the server's training pool (``pool``),
its runners on Dask workers or threads (``runners``), the live observer of a run (``observer``),
the pool seen as a core executor (``pool_executor``) and what is derived after a run
(``analysis``), and the news they send (``news``). It never touches a widget or a page's
parameters: it posts news to an inbox."""
