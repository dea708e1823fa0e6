"""Typer options that several commands declare alike, declared once here."""

from typing import Annotated

import typer

from kafkaredis_cli.cli.completion import complete_topic
from kafkaredis_cli.domain.encodings import Encoding

# The topic `produce` sends to and `consume` reads, the configured one by default.
TopicOpt = Annotated[
    str | None,
    typer.Option(
        "--topic",
        "-t",
        help="Topic (default: the first of KAFKAREDIS_KAFKA__TOPICS).",
        autocompletion=complete_topic,
    ),
]

# --key-encoding and --value-encoding, as `consume` (output) and `produce` (input) take them.
KeyEncodingOpt = Annotated[
    Encoding,
    typer.Option("--key-encoding", case_sensitive=False, help="Keys as text, hex or base64."),
]
ValueEncodingOpt = Annotated[
    Encoding,
    typer.Option("--value-encoding", case_sensitive=False, help="Values as text, hex or base64."),
]

# What `produce` and `cache replay` take alike for the message they send.
PartitionOpt = Annotated[
    int | None, typer.Option("--partition", "-p", min=0, help="Partition (default: by key).")
]
NoVerifyOpt = Annotated[bool, typer.Option("--no-verify", help="Do not read the message back.")]
TtlOpt = Annotated[
    int | None,
    typer.Option(
        "--ttl", min=1, help="TTL of the Redis record, seconds (default: KAFKAREDIS_REDIS__TTL_S)."
    ),
]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
