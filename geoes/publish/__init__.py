"""Products made from a built dataset, framework-free: serialisation of layers and tables, filters, colour
classes, charts, the county report and the OGC API – Features core. The web and the CLI call them."""
