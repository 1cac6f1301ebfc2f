"""Errors a user can fix: the CLI prints them as one line and exits with their code."""


class GenzooError(Exception):
    """Bad input (names, keys, types, files): exit code 2."""

    exit_code = 2


class TrainingDiverged(GenzooError):
    """A loss became non-finite: the run stops, the last good checkpoint is kept."""

    exit_code = 3


class Interrupted(GenzooError):
    """Ctrl-C during long work whose finished parts are saved: exit code 130."""

    exit_code = 130


def brief(exc: BaseException, limit: int = 100) -> str:
    """A library exception's message as a short clause of a one-line error: its first line, cut."""
    lines = str(exc).strip().splitlines()
    text = " ".join(lines[0].split()) if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(name, known) -> str:
    """"did you mean 'x'? " for the closest of `known` to `name`, or "" when none is close."""
    import difflib

    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f"did you mean {close[0]!r}? " if close else ""
