"""`smcost report` on the built demo account, opened in a real browser: Debian's chromium, driven by
Playwright (never Playwright's own browser download), loads the file from file:// with the network
closed; no console message, every chart drew marks, the figures shown equal the marts' (queried here
independently) and the demo's ground truth, the tables sort. A screenshot of the page is kept under
pytest's temporary directory (its path and the load time are printed: `pytest -s`).

Without /usr/bin/chromium (`make test` installs it: the Makefile's `chromium` target) the browser
tests skip and say so; the command's own tests (--help, --period, the file's content) run anyway.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from smcost_testing import REPO, run_smcost

CHROMIUM = Path("/usr/bin/chromium")
# Headless on a closed network: no background fetches, updates, sync or QUIC probes to time out on.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SAGEMAKER_SCOPE = "('AmazonSageMaker', 'MachineLearningSavingsPlans')"
CENT = 0.005


@pytest.fixture(scope="module")
def report_file(demo_build, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "smcost-report.html"
    result = run_smcost("report", "--database", str(demo_build), "--out", str(out))
    assert str(out) in result.stdout
    return out


@pytest.fixture(scope="module")
def html(report_file) -> str:
    return report_file.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def con(demo_build):
    with duckdb.connect(str(demo_build), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def period(con) -> str:
    (latest,) = con.execute("select max(billing_period) from fct_sagemaker_cost_by_team_monthly").fetchone()
    return latest


def truth_total(demo_lake: Path, period: str) -> float:
    """The demo's true SageMaker-scope effective cost of a month (the generator's ground truth)."""
    (total,) = duckdb.sql(
        f"""select sum(effective_cost) from read_parquet('{demo_lake}/demo/ground_truth/*.parquet')
            where service_code in {SAGEMAKER_SCOPE} and billing_period = '{period}'"""
    ).fetchall()[0]
    return float(total)


def money(amount: float, signed: bool = False) -> str:
    sign = "-" if round(amount, 2) < 0 else ("+" if signed else "")
    return f"{sign}${abs(amount):,.2f}"


class Page:
    """The report open in chromium, with everything it said on the console and every request it made."""

    def __init__(self, page: Any, messages: list[tuple[str, str]], requests: list[str], load_seconds: float):
        self.page, self.messages, self.requests, self.load_seconds = page, messages, requests, load_seconds

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def tile(self, key: str) -> tuple[float, str]:
        """A figure of the answer: its value (data-value) and the text shown."""
        return self.js(
            """key => { const t = document.querySelector(`[data-figure="${key}"]`);
                        return [Number(t.dataset.value), t.querySelector(".value").textContent]; }""",
            key,
        )

    def footer(self, table: str, column: str) -> tuple[float, str]:
        return self.js(
            """([table, column]) => { const c = document.querySelector(
                   `table[data-table="${table}"] tfoot td[data-field="${column}"]`);
                 return [Number(c.dataset.value), c.textContent]; }""",
            [table, column],
        )


@pytest.fixture(scope="module")
def browser_page(report_file, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is not installed: the report's browser tests need Debian's chromium "
            "(`make chromium`, or apt-get install --no-install-recommends chromium)"
        )
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            viewport={"width": 1180, "height": 900},
        )
        try:
            page = context.new_page()
            messages: list[tuple[str, str]] = []
            requests: list[str] = []
            page.on("console", lambda m: messages.append((m.type, m.text)))
            page.on("pageerror", lambda e: messages.append(("pageerror", str(e))))
            page.on("request", lambda r: requests.append(r.url))
            started = time.perf_counter()
            page.goto(report_file.as_uri())
            page.evaluate("window.smcostReady")  # every chart drawn (or failed, on the console)
            load_seconds = time.perf_counter() - started
            screenshot = report_file.with_suffix(".png")
            page.screenshot(path=str(screenshot), full_page=True)
            print(
                f"\nreport {report_file} ({report_file.stat().st_size:,} bytes) loaded and drawn in {load_seconds:.2f} s"
            )
            print(f"screenshot: {screenshot}")
            yield Page(page, messages, requests, load_seconds)
        finally:
            context.close()


# --------------------------------------------------------------------------------------------
# In the browser
# --------------------------------------------------------------------------------------------


def test_the_page_loads_without_a_console_message(browser_page):
    assert browser_page.messages == []


def test_the_page_fetches_nothing_but_itself(browser_page, report_file):
    assert browser_page.requests == [report_file.as_uri()]


def test_every_chart_drew_marks(browser_page):
    charts = browser_page.js(
        """Array.from(document.querySelectorAll("script.chart-spec")).map(s => {
               const id = s.dataset.target;
               return [id, id in window.smcostViews, document.querySelectorAll(`#${id} g.role-mark > *`).length];
           })"""
    )
    assert len(charts) >= 12
    for chart, has_view, marks in charts:
        assert has_view, f"{chart}: vega-embed drew no view"
        assert marks > 0, f"{chart}: no marks"


def test_every_chart_has_a_title_and_a_caption(browser_page):
    charts = browser_page.js(
        """Array.from(document.querySelectorAll("figure.chart")).map(f => [
               f.querySelector(".vis").id,
               Array.from(f.querySelectorAll(".vis svg .role-title-text")).map(t => t.textContent).join(" "),
               f.querySelector("figcaption").textContent])"""
    )
    for chart, title, caption in charts:
        assert title.strip(), f"{chart}: no title"
        assert "(USD" in caption and "Source: fct_" in caption, f"{chart}: the caption says not what it counts"


def test_the_answer_is_the_ground_truths_total_and_its_change(browser_page, demo_lake, period, con):
    previous = con.execute(
        "select max(billing_period) from fct_sagemaker_cost_by_team_monthly where billing_period < ?", [period]
    ).fetchone()[0]
    total, shown = browser_page.tile("total")
    assert total == pytest.approx(truth_total(demo_lake, period), abs=CENT)
    assert shown == money(total)
    change, shown = browser_page.tile("change")
    assert change == pytest.approx(truth_total(demo_lake, period) - truth_total(demo_lake, previous), abs=CENT)
    assert shown == money(change, signed=True)


def test_the_answers_other_figures_equal_the_marts(browser_page, con, period):
    def one(sql: str) -> float:
        return float(con.execute(sql, [period]).fetchone()[0])

    expected = {
        # idle endpoint capacity plus notebooks out of hours, never the same dollar twice
        "waste": one("select sum(idle_cost) from fct_sagemaker_endpoint_idle_monthly where billing_period = ?")
        + one("select sum(out_of_hours_saving) from fct_sagemaker_notebook_hours_monthly where billing_period = ?"),
        "hidden": one(
            """select sum(effective_cost) from fct_sagemaker_fully_loaded_cost
               where billing_period = ? and not is_sagemaker_line"""
        ),
        # the taggable spend (the trend mart) less what carries all four tags in the bill (the fact)
        "tag_gap": one(
            "select taggable_cost from fct_sagemaker_tag_coverage_trend where billing_period = ? and dimension = 'team'"
        )
        - one(
            "select sum(effective_cost) from fct_sagemaker_cost_allocations where billing_period = ? and has_all_bill_tags"
        ),
        "savings": one("select sum(monthly_saving) from fct_sagemaker_savings_opportunities where billing_period = ?"),
    }
    for key, value in expected.items():
        shown_value, shown = browser_page.tile(key)
        assert shown_value == pytest.approx(value, abs=CENT), key
        assert shown == money(shown_value), key


def test_the_charts_draw_the_marts_rows(browser_page, con, period):
    by_month: dict[str, float] = {}
    for row in browser_page.js("window.smcostViews['usd-by_team'].data('rows')"):
        by_month[row["billing_period"]] = by_month.get(row["billing_period"], 0.0) + row["effective_cost"]
    expected = dict(
        con.execute(
            """select billing_period, sum(effective_cost) from fct_sagemaker_cost_allocations
               where billing_period <= ? group by 1""",
            [period],
        ).fetchall()
    )
    assert by_month == pytest.approx(expected, abs=CENT)
    drawn = browser_page.js("window.smcostViews['usd-top_endpoints'].data('rows').map(r => r.total_cost)")
    assert sum(drawn) == pytest.approx(browser_page.footer("top_endpoints", "total_cost")[0], abs=CENT)


def test_the_multi_model_split_and_the_unattributed_spend_equal_the_allocations(browser_page, con, period):
    split = con.execute(
        """select sum(effective_cost) from fct_sagemaker_cost_allocations
           where billing_period = ? and endpoint_mode = 'multi_model'""",
        [period],
    ).fetchone()[0]
    unattributed = con.execute(
        """select sum(effective_cost) from fct_sagemaker_cost_allocations
           where billing_period = ? and unattributed_reason is not null""",
        [period],
    ).fetchone()[0]
    for table, column, expected in (
        ("multi_model", "effective_cost", split),
        ("unattributed", "effective_cost", unattributed),
    ):
        value, shown = browser_page.footer(table, column)
        assert value == pytest.approx(expected, abs=CENT), table
        assert shown == money(value)
    models = browser_page.js(
        """Array.from(document.querySelectorAll('table[data-table="multi_model"] tbody tr'))
               .map(r => r.cells[1].textContent)"""
    )
    assert "__idle__" in models and len(models) >= 3  # the demo's multi-model endpoint serves three models


def test_a_heading_click_sorts_its_table(browser_page):
    def column(table: str, index: int) -> list[str]:
        return browser_page.js(
            """([table, index]) => Array.from(document.querySelectorAll(`table[data-table="${table}"] tbody tr`))
                   .map(r => r.cells[index].dataset.value)""",
            [table, index],
        )

    def click(table: str, index: int) -> None:
        browser_page.page.locator(f'table[data-table="{table}"] thead th').nth(index).locator("button").click()

    click("top_models", 3)  # billed, money: largest first, then smallest first
    billed = [float(v) for v in column("top_models", 3)]
    assert billed == sorted(billed, reverse=True)
    click("top_models", 3)
    assert [float(v) for v in column("top_models", 3)] == sorted(billed)
    click("top_models", 0)  # model, text: A to Z
    names = column("top_models", 0)
    assert names == sorted(names) and len(names) > 3


# --------------------------------------------------------------------------------------------
# The file and the command
# --------------------------------------------------------------------------------------------


def test_the_file_references_nothing_on_the_network(html):
    assert not re.search(r"<script[^>]*\bsrc=", html, re.I)
    assert not re.search(r"<link\b", html, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", html, re.I)
    assert "vegaEmbed" in html and "@media print" in html  # the library and the print layout are inside


def test_the_report_states_its_period_and_currency(html, period):
    assert f"<title>SageMaker cost report {period}</title>" in html
    assert f"The answer: {period} (USD)" in html


def test_another_period_reports_that_month(demo_build, demo_lake, tmp_path):
    out = tmp_path / "september.html"
    run_smcost("report", "--database", str(demo_build), "--period", "2026-09", "--out", str(out))
    total = re.search(r'data-figure="total" data-value="([-0-9.e]+)"', out.read_text(encoding="utf-8"))
    assert total and float(total.group(1)) == pytest.approx(truth_total(demo_lake, "2026-09"), abs=CENT)


def test_the_default_file_is_beside_the_database(demo_build, tmp_path):
    database = tmp_path / "smcost.duckdb"
    shutil.copy(demo_build, database)
    result = run_smcost("report", "--database", str(database))
    assert (tmp_path / "smcost-report.html").is_file()
    assert (tmp_path / "smcost-report.html").resolve().as_uri() in result.stdout


def test_help_names_the_options():
    result = run_smcost("report", "--help")
    for option in ("--period", "--out", "--database"):
        assert option in result.stdout


@pytest.mark.parametrize("bad", ["2026-13", "2026-9", "October"])
def test_a_malformed_period_is_a_usage_error(demo_build, bad):
    result = run_smcost("report", "--database", str(demo_build), "--period", bad, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert "--period: must be YYYY-MM" in result.stderr


def test_an_unknown_period_lists_the_periods_the_marts_hold(demo_build, tmp_path):
    out = tmp_path / "r.html"
    result = run_smcost("report", "--database", str(demo_build), "--period", "2019-01", "--out", str(out), check=False)
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.strip() == (
        f"smcost report: no billing period 2019-01 in {demo_build}; the marts hold 2026-08, 2026-09, 2026-10"
    )


def test_a_missing_database_says_how_to_build_it(tmp_path):
    result = run_smcost("report", "--database", str(tmp_path / "none.duckdb"), check=False)
    assert result.returncode == 2 and "make demo" in result.stderr


def test_a_build_without_a_mart_names_it(demo_build, tmp_path):
    older = tmp_path / "older.duckdb"
    shutil.copy(demo_build, older)
    with duckdb.connect(str(older)) as connection:
        connection.execute("drop table fct_sagemaker_cost_by_model_monthly")
    result = run_smcost("report", "--database", str(older), check=False)
    assert result.returncode == 2
    assert "fct_sagemaker_cost_by_model_monthly" in result.stderr and "dbt build" in result.stderr


def test_the_exposure_lists_exactly_the_marts_the_report_reads():
    from smcost.report import marts

    exposures = yaml.safe_load((REPO / "models" / "marts" / "sagemaker" / "_exposures.yml").read_text())["exposures"]
    (report,) = [e for e in exposures if e["name"] == "smcost_report"]
    refs = {re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in report["depends_on"]}
    assert refs == set(marts())
    assert all(m.startswith("fct_") for m in refs)  # marts only: never staging or intermediate
