"""axe-core in a Playwright page: the WCAG 2.1 A/AA rules, a JSON report in artifacts/.

axe-core is vendored (tests/e2e/vendor/axe-core: the published axe.min.js, its licence
and version) so the suite needs neither npm nor the network on a fresh machine.
"""

import json
from pathlib import Path

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# GOST R 52872-2019 is built on WCAG 2.1; level AA is what it and decree No. 102 ask.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page, report: Path) -> list[str]:
    """Run axe on the page as it is now; save the full result; return one line per problem."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
        "['violations']})",
        WCAG_21_AA,
    )
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        json.dumps(
            {"url": page.url, "violations": result["violations"]}, ensure_ascii=False, indent=1
        )
    )
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} — {node['failureSummary']}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ]
