"""The rating commands: rate (CQC's calculator, with what-if) and scorecard (the scores a council's documents
state, with citations, beside the calculator)."""

from __future__ import annotations

import click

from .common import chroma_url_option, cli, echo_lines, emit_json, friendly, json_option, open_library, store_option
from .output import scorecard_lines


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("scores", nargs=-1, metavar="[S1 ... S9]")
@click.option(
    "--qs",
    "named",
    multiple=True,
    metavar="NAME=SCORE",
    help="A score by quality statement (number, name or URL segment), e.g. --qs safeguarding=2; "
    "repeatable. With --method evidence-category: --qs safeguarding=3,3,2,4.",
)
@click.option(
    "--what-if",
    "show_what_if",
    is_flag=True,
    help="List the smallest score changes that reach the band above and the band below.",
)
@click.option(
    "--method",
    type=click.Choice(["current", "evidence-category"]),
    default="current",
    show_default=True,
    help="current: one score per QS. evidence-category: the older method, a comma-separated list of "
    "evidence category scores per QS.",
)
@click.option("--indicative", is_flag=True, help="Mark the result as indicative (pilot), not a formal rating.")
@store_option
@json_option
@friendly
def rate(
    scores: tuple[str, ...],
    named: tuple[str, ...],
    show_what_if: bool,
    method: str,
    indicative: bool,
    store: str | None,
    as_json: bool,
) -> None:
    """Compute the overall % and rating from quality statement scores (CQC's method).

    Give up to nine scores from 1 to 4 in CQC's order (QS1 Assessing needs ... QS9 Learning,
    improvement and innovation); '-' or 'na' marks a QS not assessed, and --qs NAME=SCORE sets one
    by name. The published % is the ceiling of 100 x sum / (4 x QS assessed). --store is accepted
    for uniformity and ignored.

    With --method evidence-category (the older method) each value is a comma-separated list of
    evidence category scores for that QS, e.g. `3,3,2,4`; each QS score is derived from them.

    Examples:

    \b
        cqc-assistant rate 3 3 3 3 3 3 3 3 3 --json
        cqc-assistant rate 3 3 2 3 4 3 3 3 - --what-if
        cqc-assistant rate --qs safeguarding=2 --qs needs=3
        cqc-assistant rate --method evidence-category 3,3,2,4 3,3,3 - 2,3,3,3
    """
    from ..rating import rate as rate_scores
    from ..rating import rate_legacy
    from ..rating_input import parse_evidence_categories, parse_scores
    from ..rating_report import rate_lines
    from ..what_if import ways, ways_count, what_if, what_if_count

    if method == "evidence-category":
        result = rate_legacy(parse_evidence_categories(scores, named), indicative=indicative)
    else:
        result = rate_scores(parse_scores(scores, named), indicative=indicative)
    if not as_json:
        click.echo("\n".join(rate_lines(result, indicative=indicative, show_what_if=show_what_if)))
        return
    data = result.to_json()
    if show_what_if:
        data["what_if"] = [o.to_json() for o in what_if(result, limit=20)]
        data["what_if_total"] = what_if_count(result)
        data["what_if_ways"] = [w.to_json() for w in ways(result, "up")]
        data["what_if_ways_total"] = ways_count(result, "up")
        data["what_if_down"] = [w.to_json() for w in ways(result, "down")]
        data["what_if_down_total"] = ways_count(result, "down")
    emit_json(data)


@cli.command()
@click.argument("council", required=False)
@click.option("--include-demo", "include_demo", is_flag=True, help="The demo documents too.")
@store_option
@chroma_url_option
@json_option
@friendly
def scorecard(council: str | None, include_demo: bool, store: str | None, as_json: bool) -> None:
    """Show each council's stated QS scores with citations, beside the calculator's rating.

    Scores come from CQC quality-statement pages (the `Score: N` line) and press releases (the list
    of nine); every score cites the passage that states it, and the card says how many of the nine it
    found. A % and rating are computed only when all nine are found (or a document says the others
    were not assessed), then set beside every rating or % the council's documents state; any
    disagreement is flagged. COUNCIL is
    optional ('wyvernshire' matches 'Wyvernshire County Council'); without it, every council with
    stated scores is shown.

    Example:

        cqc-assistant scorecard Wyvernshire --json
    """
    from ..scorecard import build_scorecard

    lib = open_library(store)
    card = build_scorecard(lib, council, include_demo=include_demo)
    if as_json:
        emit_json(card.to_json())
        return
    if not card.councils:
        click.echo("No document in the library states quality statement scores.")
        return
    for i, c in enumerate(card.councils):
        if i:
            click.echo("")
        echo_lines(scorecard_lines(c))
