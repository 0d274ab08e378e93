"""The page: widgets and layout (``sidebar``, ``tabs``, ``page``), the live Bokeh figures of a
training (``live``), the Parameters and Model tabs (``view_tabs``), the Role search tab
(``role_search_tab``) and the registered views (``views/``, one file each)."""
