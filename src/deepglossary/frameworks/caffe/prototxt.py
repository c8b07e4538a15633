"""A parser for Caffe's ``.prototxt`` files: the protocol-buffer *text format*.

A file is a list of fields. A field is ``name: value`` (a scalar: a number, a quoted string, or
an enum identifier such as ``MAX`` or ``TRAIN``) or ``name { ... }`` (a nested message; a colon
before the brace is allowed). A name may repeat (``bottom``, ``top``, ``layer``, ``param``): the
field is then *repeated*, and :meth:`Message.all` returns every value in order. ``#`` starts a
comment that runs to the end of the line; commas and semicolons between fields are allowed.

    msg = parse('name: "LeNet"  layer { name: "ip" type: "InnerProduct" top: "ip" }')
    msg.get("name")                  # 'LeNet'
    msg.all("layer")[0].get("type")  # 'InnerProduct'
    msg.all("layer")[0].line         # 1: the line the block starts on, for error messages

No ``.proto`` schema is read (Caffe compiles ``caffe.proto`` into C++): the net builder checks
the fields it uses and names the line of anything it refuses. Counterpart in Caffe:
``google::protobuf::TextFormat::Parse`` into ``caffe::NetParameter``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r,;]+) | (?P<newline>\n) | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?[fF]?(?![\w.]))
  | (?P<ident>[A-Za-z_][\w.]*)
  | (?P<punct>[{}:<>\[\]])
""", re.VERBOSE)


class PrototxtError(ValueError):
    """A prototxt that cannot be parsed or built; the message names the line (and column)."""


@dataclass
class Token:
    kind: str      # "string", "number", "ident", "punct" or "end"
    text: str
    line: int      # 1-based
    column: int    # 1-based


@dataclass
class Message:
    """A parsed message: its fields in order, each ``(name, value, line)``.

    ``value`` is an ``int``, a ``float``, a ``str`` (a quoted string, unquoted), an
    :class:`Enum` (an identifier such as ``MAX``; ``true``/``false`` become ``bool``) or a
    nested :class:`Message`. ``line`` is where the message's opening brace is (1 at the top).
    """

    fields: list = field(default_factory=list)
    line: int = 1
    name: str = ""

    def all(self, key: str) -> list:
        """Every value of the (repeated) field ``key``, in file order; [] when absent."""
        return [value for name, value, _ in self.fields if name == key]

    def get(self, key: str, default=None):
        """The value of ``key``; the last one when it is given twice (as protobuf does for a
        non-repeated field); ``default`` when absent."""
        values = self.all(key)
        return values[-1] if values else default

    def line_of(self, key: str) -> int:
        """The line of the field ``key`` (the message's own line when it is absent)."""
        lines = [line for name, _, line in self.fields if name == key]
        return lines[-1] if lines else self.line

    def __contains__(self, key: str) -> bool:
        return any(name == key for name, _, _ in self.fields)

    def __repr__(self) -> str:
        return f"Message({self.name or 'root'}, line {self.line}, fields " \
               f"{[name for name, _, _ in self.fields]})"


class Enum(str):
    """An enum identifier (``MAX``, ``TRAIN``, ``LMDB``): a ``str`` that remembers it was not
    quoted."""


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, with their 1-based line and column; raise
    :class:`PrototxtError` naming the line and column of a character that starts no token."""
    if not isinstance(text, str):
        raise TypeError(f"a prototxt must be a str, got {type(text).__name__}")
    tokens, line, line_start, pos = [], 1, 0, 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            column = pos - line_start + 1
            what = text[pos]
            hint = " (a string is not closed on its line)" if what in "\"'" else ""
            raise PrototxtError(f"prototxt line {line}, column {column}: unexpected character "
                                f"{what!r}{hint}")
        kind = match.lastgroup
        if kind == "newline":
            line, line_start = line + 1, match.end()
        elif kind not in ("space", "comment"):
            tokens.append(Token(kind, match.group(), line, pos - line_start + 1))
        pos = match.end()
    tokens.append(Token("end", "", line, pos - line_start + 1))
    return tokens


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def _scalar(token: Token):
    if token.kind == "string":
        body = token.text[1:-1]
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)
    if token.kind == "number":
        text = token.text.rstrip("fF")
        if re.fullmatch(r"[-+]?\d+", text):
            return int(text)
        return float(text)
    if token.text in ("true", "True"):
        return True
    if token.text in ("false", "False"):
        return False
    if token.text.lower() in ("inf", "infinity", "nan", "-inf"):
        return float(token.text)
    return Enum(token.text)


def parse(text: str) -> Message:
    """Parse prototxt ``text`` into a :class:`Message` (the file's top level, line 1).

    Raises :class:`PrototxtError` with the line and column of the first syntax error: a
    field without a value, a ``}`` without its ``{``, a block not closed by the end of the
    file, a value where a field name belongs.
    """
    tokens = tokenize(text)
    pos = 0

    def error(token: Token, message: str) -> PrototxtError:
        found = "the end of the file" if token.kind == "end" else repr(token.text)
        return PrototxtError(f"prototxt line {token.line}, column {token.column}: {message}, "
                             f"found {found}")

    def message(opening: Token | None, name: str) -> Message:
        nonlocal pos
        msg = Message(line=opening.line if opening else 1, name=name)
        closer = {"{": "}", "<": ">"}.get(opening.text) if opening else None
        while True:
            token = tokens[pos]
            if token.kind == "end":
                if closer:
                    raise error(token, f"the block {name!r} opened on line {opening.line}, "
                                       f"column {opening.column} is not closed with "
                                       f"{closer!r}")
                return msg
            if token.kind == "punct" and token.text in "}>":
                if token.text != closer:
                    raise error(token, "a closing brace without its opening one"
                                if closer is None else f"expected {closer!r}")
                pos += 1
                return msg
            if token.kind != "ident":
                raise error(token, "expected a field name")
            key = token.text
            pos += 1
            colon = tokens[pos].kind == "punct" and tokens[pos].text == ":"
            if colon:
                pos += 1
            value_token = tokens[pos]
            if value_token.kind == "punct" and value_token.text in "{<":
                pos += 1
                msg.fields.append((key, message(value_token, key), token.line))
            elif not colon:
                raise error(value_token, f"expected ':' or '{{' after the field name {key!r}")
            elif value_token.kind == "punct" and value_token.text == "[":    # a list: [1, 2]
                pos += 1
                while not (tokens[pos].kind == "punct" and tokens[pos].text == "]"):
                    if tokens[pos].kind not in ("string", "number", "ident"):
                        raise error(tokens[pos], f"expected a value in the list {key!r}")
                    msg.fields.append((key, _scalar(tokens[pos]), tokens[pos].line))
                    pos += 1
                pos += 1
            elif value_token.kind in ("string", "number", "ident"):
                value = _scalar(value_token)
                pos += 1
                while isinstance(value, str) and not isinstance(value, Enum) \
                        and tokens[pos].kind == "string":     # "a" "b": adjacent strings join
                    value += _scalar(tokens[pos])
                    pos += 1
                msg.fields.append((key, value, token.line))
            else:
                raise error(value_token, f"expected a value for the field {key!r}")

    return message(None, "")
