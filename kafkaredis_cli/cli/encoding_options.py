"""--key-encoding and --value-encoding, as `consume` (output) and `produce` (input) take them."""

from __future__ import annotations

from typing import Annotated

import typer

from kafkaredis_cli.domain.encodings import Encoding

KeyEncodingOpt = Annotated[
    Encoding,
    typer.Option("--key-encoding", case_sensitive=False, help="Keys as text, hex or base64."),
]
ValueEncodingOpt = Annotated[
    Encoding,
    typer.Option("--value-encoding", case_sensitive=False, help="Values as text, hex or base64."),
]
