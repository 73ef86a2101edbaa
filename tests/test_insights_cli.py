"""`mutual insights refresh` and `mutual insights show`, run in-process."""

from __future__ import annotations

from tests.test_cli import assert_clean_failure, cli_url, mutual  # noqa: F401


def test_refresh_reports_each_stage_and_show_explains_a_missing_customer(
    cli_url,  # noqa: F811  (the fixture of tests/test_cli.py)
):
    # Given a migrated, empty database
    assert mutual(cli_url, "db", "upgrade").exit_code == 0
    # When insights are refreshed
    result = mutual(cli_url, "insights", "refresh", "--quiet")
    # Then every stage is timed, even with no customer to score
    assert result.exit_code == 0, result.output
    assert "Refreshed 0 customers" in result.output
    for stage in ("aggregates", "fits", "scores", "write", "total"):
        assert stage in result.output
    # And showing an unknown customer is a clean failure
    assert_clean_failure(
        mutual(cli_url, "insights", "show", "424242"), "No insights for customer"
    )
