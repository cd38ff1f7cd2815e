"""Maps the top-level folders onto the `mimo_agent` namespace.

`engine/`, `tools/`, `tui/` and `evals/` sit at the top of the repository for reading, but install as
`mimo_agent.engine`, … so that no generic top-level name lands in site-packages. Sub-packages are found
here so nobody has to list them by hand.
"""

from setuptools import find_packages, setup

ROOTS = {
    "mimo_agent": "mimo_agent",
    "mimo_agent.engine": "engine",
    "mimo_agent.tools": "tools",
    "mimo_agent.tui": "tui",
    "mimo_agent.evals": "evals",
}

packages: list[str] = []
package_dir: dict[str, str] = {}
for name, folder in ROOTS.items():
    package_dir[name] = folder
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={
        "": ["*.c", "*.jinja", "*.j2", "*.scm", "*.tcss", "*.json", "*.yaml", "*.toml", "*.txt", "*.md"]
    },
    include_package_data=True,
)
