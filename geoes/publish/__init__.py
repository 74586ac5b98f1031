"""Products made from a built dataset, framework-free: the served data and its caches, the layers serialised
once per version (and the map's unit layers), query parameters and filters, colour classes, labels, serialisation of layers and tables,
charts, the county report, the one Jinja set-up and the OGC API – Features core. The web and the CLI call
them; nothing here imports Flask or geoes.web."""
