"""What the `eval` and `bench` commands share: loading a question set, opening the
index, printing. Apart from evals/cli.py so that the bench commands, which the CLI
registers, do not import the CLI back."""

from __future__ import annotations

import json
from pathlib import Path

import click

from evals.datasets import DatasetError, load_dataset


def progress(message: str) -> None:
    click.echo(message, err=True)


def print_json(data: dict) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


def comma_list(kind):
    def convert(ctx, param, value):
        if value is None:
            return None
        try:
            return [kind(item.strip()) for item in value.split(",") if item.strip()]
        except ValueError as exc:
            raise click.BadParameter(f"{value!r}: {exc}") from exc

    return convert


def load_questions(path: Path) -> list:
    try:
        return load_dataset(path)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from exc


def open_retriever_or_fail(index_dir: Path | None, embedder: str):
    from evals.runtime import open_retriever

    try:
        return open_retriever(index_dir, embedder)
    except Exception as exc:  # IndexNotFound etc. carry a message that says what to do
        raise click.ClickException(f"cannot open the index: {exc}") from exc
