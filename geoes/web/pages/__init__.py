"""The HTML pages (Polish), one blueprint per page family:

* `map` — the public map (/), the embeddable map (/embed), the type and class colours (/types.css);
* `units` — the powiaty (/powiaty), a county's profile, report, charts, static map and CSV tables
  (/powiaty/<teryt>…), a gmina's profile and charts (/gminy/<teryt>…), the comparison (/compare…);
* `entities` — the entity list (/entities) and one entity (/entities/<id>);
* `about` — method, sources, completeness and attribution (/about);
* `trends` — official counts by type and year and the register's history (/trendy…);
* `seo` — /robots.txt, /sitemap.xml and /favicon.ico;
* `reports` — the public report forms (/zglos/<id>, /zglos/nowy) and their thank-you page (rendered per
  request: each form carries its own CSRF token).

`views` holds what they share; `mapconfig` the configuration every map page gives static/js/map.js. The
HTML pages are rendered once per dataset version and served from memory (geoes.web.pagecache).
"""
from geoes.web.pages import about, entities, reports, seo, trends, units
from geoes.web.pages import map as public_map

BLUEPRINTS = (public_map.bp, units.bp, entities.bp, about.bp, trends.bp, seo.bp, reports.bp)
