"""Every setting the app reads is documented in the README (Datasette's rule)."""
import re

from geoes.config import REPO_DIR


def test_every_app_setting_is_documented(app):
    readme = (REPO_DIR / "README.md").read_text(encoding="utf-8")
    defaults = {"MAX_CONTENT_LENGTH", "JSON_SORT_KEYS", "PAGE_SIZE", "MAX_PAGE_SIZE", "GEOES_REGION", "GEOES_DATA_DIR", "WARM_UP"}
    source = (REPO_DIR / "geoes" / "web" / "__init__.py").read_text(encoding="utf-8")
    mapping = re.search(r"from_mapping\((.*?)\)\n", source, re.S).group(1)
    keys = set(re.findall(r"^\s*([A-Z_]+)=", mapping, re.M))
    assert keys == defaults, "a new setting: document it in README and add it here"
    for key in keys:
        name = key if key.startswith("GEOES_") else f"GEOES_{key}"
        assert f"`{name}`" in readme, f"{name} is not documented in README.md"


def test_readme_names_the_two_setup_commands():
    readme = (REPO_DIR / "README.md").read_text(encoding="utf-8")
    assert "./run.sh" in readme and "./test.sh" in readme
    ci = (REPO_DIR / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.strip().splitlines()[-1] == "./test.sh"
