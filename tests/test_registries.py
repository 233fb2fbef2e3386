"""Every plugin module is registered, and every registry entry loads (rtl_433's device list / Telegraf's
plugins/all test): receivers (station/receivers/__init__.py:REGISTRY), subcommands (station/cli.py:COMMANDS) and
register importers (station/compliance/register/__init__.py:REGISTRY).

Private helper modules (``_name.py``) and the interface (``base.py``) are not plugins."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import station.commands
import station.compliance.register
import station.receivers
from station.cli import COMMANDS, build_parser
from station.commands.register import FORMATS as REGISTER_CLI_FORMATS
from station.compliance.register import CANONICAL_FORMATS, IMPORT_FORMATS
from station.compliance.register import REGISTRY as IMPORTERS
from station.errors import UsageError
from station.receivers import REGISTRY, open_receiver
from station.receivers.base import Receiver

NOT_PLUGINS = {"base"}
#: modules of station/compliance/register/ that are the canonical format, not importers of a real register
NOT_IMPORTERS = {"model", "canonical", "exempt", "options", "tolerances"}


def _modules(package) -> set[str]:
    return {m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")}


def test_every_receiver_module_is_registered():
    registered = {target.partition(":")[0].rsplit(".", 1)[1] for target in REGISTRY.values()}
    unregistered = _modules(station.receivers) - NOT_PLUGINS - registered
    assert not unregistered, f"receiver modules missing from REGISTRY: {sorted(unregistered)}"


@pytest.mark.parametrize("scheme", sorted(REGISTRY))
def test_every_registered_receiver_loads(scheme):
    module_name, _, class_name = REGISTRY[scheme].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert inspect.isclass(cls) and issubclass(cls, Receiver)
    assert callable(getattr(cls, "from_uri", None))
    assert not inspect.isabstract(cls), f"{cls.__name__} leaves abstract methods unimplemented"


def test_every_command_module_is_listed():
    listed = {name.rsplit(".", 1)[1] for name in COMMANDS.values()}
    unlisted = _modules(station.commands) - listed
    assert not unlisted, f"command modules missing from station.cli.COMMANDS: {sorted(unlisted)}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_imports_and_adds_its_parser(name):
    module = importlib.import_module(COMMANDS[name])  # fails while a listed command is missing or broken
    assert callable(getattr(module, "add_parser", None)), f"{COMMANDS[name]} has no add_parser(subparsers)"
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert name in sub.choices, f"{COMMANDS[name]} did not register the subcommand {name!r}"
    assert _has_func(sub.choices[name]), f"{name}: no func default (on the parser or on each of its actions)"


def _has_func(parser) -> bool:
    """The parser sets ``func``, or it has nested sub-actions that each do (``specmon spool status``)."""
    if callable(parser.get_default("func")):
        return True
    nested = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return bool(nested) and all(_has_func(p) for a in nested for p in a.choices.values())


def test_unknown_scheme_names_the_known_ones():
    with pytest.raises(UsageError, match=r"unknown receiver URI scheme 'soapy' in 'soapy://0'; known: file, rtlsdr, "
                                         r"rtltcp, sim"):
        open_receiver("soapy://0")
    with pytest.raises(UsageError, match="has no scheme"):
        open_receiver("/tmp/rec.cu8")



def test_every_register_importer_module_is_registered():
    modules = _modules(station.compliance.register)
    assert NOT_IMPORTERS <= modules, f"NOT_IMPORTERS names modules that do not exist: {sorted(NOT_IMPORTERS - modules)}"
    registered = {target.rsplit(".", 1)[1] for target in IMPORTERS.values()}
    unregistered = modules - NOT_IMPORTERS - registered
    assert not unregistered, f"register importer modules missing from REGISTRY: {sorted(unregistered)}"


@pytest.mark.parametrize("fmt", sorted(IMPORTERS))
def test_every_registered_importer_loads(fmt):
    module = importlib.import_module(IMPORTERS[fmt])
    assert callable(getattr(module, "read", None)), f"{IMPORTERS[fmt]} has no read(paths, options)"
    assert list(inspect.signature(module.read).parameters) == ["paths", "options"]
    assert isinstance(module.SEVERAL_FILES, bool)
    assert not hasattr(module, "DEFAULT_CHANNEL_HZ"), "importers take bandwidths from the source, no default"


def test_register_import_formats_are_the_registry_and_the_cli_offers_them_all():
    assert IMPORT_FORMATS == (*IMPORTERS, *CANONICAL_FORMATS)
    assert tuple(REGISTER_CLI_FORMATS) == IMPORT_FORMATS, "specmon register import --format drifted from REGISTRY"
