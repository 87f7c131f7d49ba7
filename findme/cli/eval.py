"""`findme eval`: precision, recall and distances on a labelled folder of portraits."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from findme.cli.errors import UsageError
from findme.cli.output import count
from findme.settings import DEFAULT_THRESHOLD, MAX_THRESHOLD, MIN_THRESHOLD

EVAL_LEGEND = """
refs        reference portraits per person      jitter   re-encodings of each reference
pairs       (person, photo) pairs compared      P / R    precision / recall at the threshold
bestF1 t    threshold with the best F1          F1       harmonic mean of precision and recall
t@99%P      largest threshold with precision of at least 99 %
far true    largest distance of a photo that shows the person
near false  smallest distance of a photo that does not
margin      near false - far true (positive: one threshold separates them all)"""


def register(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="precision, recall and distances on a labelled folder",
        description="DIR/people/NAME/* holds portraits of each person (the first ones in "
        "name order are the references); DIR/groups/* other photos, labelled in "
        'DIR/groups/labels.json as {"photo.jpg": ["NAME", ...]}.',
    )
    evaluate.add_argument(
        "folder",
        type=Path,
        metavar="DIR",
        help="the labelled folder DIR (with people/ and groups/)",
    )
    evaluate.add_argument(
        "--references",
        type=_numbers,
        default=[1, 3],
        help="how many portraits a person are references, each count measured apart (default 1,3)",
    )
    evaluate.add_argument(
        "--jitters",
        type=_numbers,
        default=[0, 20],
        help="re-encodings of each reference, each count measured apart (default 0,20; "
        "e.g. 0,20,100)",
    )
    evaluate.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"the threshold P and R are measured at ({MIN_THRESHOLD} to {MAX_THRESHOLD})",
    )
    evaluate.add_argument("--json", action="store_true", help="print the rows as JSON")
    evaluate.set_defaults(run=run)


def _numbers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from findme import evaluation

    if not (args.folder / "people").is_dir():
        raise UsageError(f"{args.folder} has no people/ folder of portraits (see findme eval -h)")
    if not MIN_THRESHOLD <= args.threshold <= MAX_THRESHOLD:
        raise UsageError(f"--threshold must be between {MIN_THRESHOLD} and {MAX_THRESHOLD}")
    people, labels = evaluation.load_labelled(args.folder)
    if not people:
        raise UsageError(f"{args.folder}/people has no folders of portraits")
    # A person is found in their other portraits and in group photos labelled with them;
    # one with a single portrait and no group photo is a reference only: the photos
    # that match them are look-alikes (precision).
    in_groups = {name: sum(name in names for names in labels.values()) for name in people}
    findable = {
        name: len(p) if in_groups[name] else len(p) - 1
        for name, p in people.items()
        if len(p) + in_groups[name] >= 2
    }
    if not findable:
        raise UsageError(
            "no person can be found: give someone a second portrait, or a group photo "
            "labelled with them in groups/labels.json"
        )
    references_only = [name for name in people if name not in findable]
    if references_only:
        print(
            f"findme: note: {', '.join(references_only)}: one portrait each, used only as a "
            "reference (the photos that match them are look-alikes)",
            file=sys.stderr,
        )
    fewest = min(len(people[name]) for name in findable)
    usable = min(findable.values())  # each person keeps a photo of them to be found
    counts = sorted({min(number, usable) for number in args.references if number > 0})
    if not counts:
        raise UsageError("--references must hold whole numbers of at least 1")
    if max(args.references) > usable:
        print(
            f"findme: note: with {count(fewest, 'portrait')} for some people, at most "
            f"{usable} can be references; --references "
            f"{','.join(map(str, args.references))} is read as {','.join(map(str, counts))}",
            file=sys.stderr,
        )
    rows = evaluation.evaluate(args.folder, counts, args.jitters, args.threshold)
    if args.json:
        print(evaluation.as_json(rows))
        return 0
    print(evaluation.table(rows, args.threshold))
    print(EVAL_LEGEND)
    best = rows[-1]
    suggested = min(max(best.best_f1_threshold, MIN_THRESHOLD), MAX_THRESHOLD)
    print(
        f"\nsuggested --threshold {suggested:.2f} (the best F1 with "
        f"{count(best.references, 'reference')}, {count(best.jitters, 'jitter')}"
        + (
            f"; {best.threshold_99_precision:.2f} keeps precision at 99 %)"
            if best.threshold_99_precision is not None
            else ")"
        )
    )
    return 0
