"""The front page and the manual: every link lands, every screenshot is shown, and the map of
the code names every section and browser file there is."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", REPO / "README.zh-CN.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_every_relative_link_lands_on_a_file():
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            assert (page.parent / target).exists(), f"{page.name} links to a missing {target}"


def test_every_screenshot_is_shown_somewhere():
    text = " ".join(page.read_text() for page in PAGES)
    for picture in (REPO / "docs").glob("*.png"):
        assert picture.name in text, f"{picture.name} is in docs/ but no page shows it"


def test_the_readme_is_a_front_page_with_the_ci_test_command():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 160
    assert "streamlit run app.py" in readme
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"\n{ci}\n" in readme  # the README's test command is the one CI runs


def test_the_readme_links_its_chinese_version_with_the_same_commands():
    readme = (REPO / "README.md").read_text()
    chinese = (REPO / "README.zh-CN.md").read_text()
    assert "(README.zh-CN.md)" in readme.split("\n\n")[1]  # right under the title
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()[-1]
    for command in ("streamlit run app.py", f"\n{ci}\n", "lang=zh"):
        assert command in chinese, command


def test_the_code_map_names_every_section_and_browser_file():
    design = (REPO / "docs" / "design.md").read_text()
    readme = (REPO / "README.md").read_text()
    for module in (REPO / "explorer" / "sections").glob("*.py"):
        if module.name != "__init__.py":
            assert f"explorer/sections/{module.name}" in design, module.name
            assert f"`{module.name}`" in readme, module.name
    web = REPO / "explorer" / "web"
    for path in web.rglob("*.*"):
        name = path.relative_to(web).as_posix()
        assert name in design or path.name in design, f"docs/design.md does not name {name}"


def test_the_code_map_names_every_module():
    """docs/design.md names each module of the project: by its path, or by its file name on a
    line that names its folder (a package's row)."""
    lines = (REPO / "docs" / "design.md").read_text().splitlines()
    packages = ("explorer", "training", "vae_core", "i18n", "deploy", "benchmarks", "docs")
    for package in packages:
        for module in sorted((REPO / package).rglob("*.py")):
            if module.name in ("__init__.py", "__main__.py"):
                continue
            path = module.relative_to(REPO).as_posix()
            folder = module.parent.relative_to(REPO).as_posix() + "/"
            named = any(
                f"`{path}`" in line or (f"`{module.name}`" in line and f"`{folder}" in line)
                for line in lines
            )
            assert named, f"docs/design.md does not name {path}"
