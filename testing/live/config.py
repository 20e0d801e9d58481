"""A LiveStack's configuration: the isolated names and port it starts with, and the
effective config (defaults included) that both backends are given."""

import secrets
from collections.abc import Callable, Iterator, Mapping

from infra.config import validate
from infra.settings import SECRETS, StackConfig, config_key, settable_fields
from testing.postgres_server import free_port

ROLES = {
    "db": "db_container_name",
    "migrator": "migrator_container_name",
    "app": "app_container_name",
    "reader": "reader_container_name",
}
# Everything the stack names in Docker: the prefix makes these unique.
ISOLATED_FIELDS = (
    "network_name",
    "volume_name",
    "db_container_name",
    "migrator_container_name",
    "app_container_name",
    "reader_container_name",
    "app_image_name",
)
# The reader reads every second so that its log has something to show at once.
FAST_SETTINGS = {"readerIntervalSeconds": 1}


class EffectiveConfig(Mapping):
    """The stack config the program sees: every key (camelCase, as `pulumi config set`
    takes it) with its value, defaults included. Attributes give the same values by
    StackConfig's field names: `config["volumeName"] == config.volume_name`.
    Setting a key (`config["retainVolume"] = False`) is `pulumi config set` on
    the stack it came from: it takes effect at the next up."""

    def __init__(self, values: Mapping[str, object], on_set: Callable[..., None] | None = None):
        self._on_set = on_set
        self._load(values)

    def _load(self, values: Mapping[str, object]) -> None:
        fields = {config_key(f.name): f for f in settable_fields()}
        settings = {}
        for key, value in values.items():
            if key in SECRETS:
                continue
            if key not in fields:
                raise KeyError(f"{key} is not a config key of the stack (see infra/settings.py)")
            if type(value) is not fields[key].type:
                raise TypeError(f"config {key}={value!r} must be a {fields[key].type.__name__}")
            settings[fields[key].name] = value
        hidden = {field: values[key] for key, field in SECRETS.items()}
        self._config = StackConfig(**hidden, **settings)
        validate(self._config)
        self._items = {
            **{key: values[key] for key in SECRETS},
            **{key: getattr(self._config, f.name) for key, f in fields.items()},
        }

    def __getitem__(self, key: str) -> object:
        return self._items[key]

    def __setitem__(self, key: str, value: object) -> None:
        if self._on_set is None:
            raise TypeError("this config belongs to no stack")
        self._on_set(**{key: value})
        self._load({**self._items, key: value})

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._config, name)

    def __repr__(self) -> str:
        shown = {k: ("[secret]" if k in SECRETS else v) for k, v in self._items.items()}
        return f"EffectiveConfig({shown})"


def isolated_config(prefix: str) -> dict[str, object]:
    defaults = {f.name: f.default for f in settable_fields()}
    return {
        **{key: secrets.token_urlsafe(24) for key in SECRETS},
        **{config_key(name): prefix + defaults[name] for name in ISOLATED_FIELDS},
        "appHostPort": free_port(),
        **FAST_SETTINGS,
    }
