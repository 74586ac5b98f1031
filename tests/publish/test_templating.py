"""geoes.publish.templating: one Jinja set-up for the pages, the report and the OGC views."""
from geoes.publish import report, templating
from geoes.publish.ogc import html


def test_every_environment_has_the_same_filters_and_globals(app):
    environments = {"report": report.environment(), "ogc": html.environment(), "flask": app.jinja_env}
    for name, env in environments.items():
        for key, fn in templating.FILTERS.items():
            assert env.filters[key] is fn, (name, key)
        for key, fn in templating.GLOBALS.items():
            assert env.globals[key] is fn, (name, key)


def test_autoescape_and_polish_numbers(tmp_path):
    (tmp_path / "t.html").write_text("{{ x }} {{ n|num(1) }} {{ k|count('gmina') }} {{ v|data_num(0) }}",
                                     encoding="utf-8")
    env = templating.environment(tmp_path)
    out = env.get_template("t.html").render(x="<b>", n=1234.56, k=3, v=80370)
    assert out == "&lt;b&gt; 1\u00a0234,6 3\u00a0gminy <data value=\"80370\">80\u00a0370</data>"
