"""What Pulumi's engine decides about one resource, apart from doing it: the name it
gives a resource the program leaves unnamed, the form in which it compares a state
with new inputs, which inputs differ, and the resource options the harness honors
(engine.py does what these decide).
"""

import secrets

import pulumi

from testing.harness.errors import UnsupportedDeclaration
from testing.harness.schema import LEFT_OUT, UNKNOWN, Rule
from testing.program import Declared

# Options the program sets. depends_on only orders registrations, which the
# mock runtime already does; the others change what up and destroy do.
_HONORED_OPTIONS = {
    "depends_on",
    "retain_on_delete",
    "ignore_changes",
    "replace_on_changes",
    "delete_before_replace",
}

# The provider package's SDK fills these in itself (Image gets aliases of its
# former type names, Secret marks its data secret in the state); they change
# nothing about what is made.
_SET_BY_THE_SDK = {"version", "plugin_download_url", "aliases", "additional_secret_outputs"}


def autoname(logical_name: str) -> str:
    return f"{logical_name}-{secrets.token_hex(4)[:7]}"


def canonical(value, unordered: bool = False):
    """A value in the form in which two equal ones compare equal: unset is None, and a
    Terraform set (`unordered`, top level only) compares without order."""
    if value in (None, [], {}, ""):
        return None
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in sorted(value.items())} or None
    if isinstance(value, list):
        items = [canonical(item) for item in value]
        return sorted(items, key=repr) if unordered else items
    return value


def diff(rules: dict[str, Rule], state: dict, news: dict, ignored: set[str]) -> set[str]:
    """The inputs whose new value differs from the provider's state."""
    changed = set()
    for key, rule in rules.items():
        if key in ignored:
            continue
        declared = news.get(key)
        if declared is LEFT_OUT:
            continue
        new = canonical(rule.default if declared is None else declared, rule.unordered)
        if new is None and rule.computed:
            # Left to Docker: whatever it reads back is what was asked for; but an
            # unknown (a failed create's) is planned again, a change.
            if state.get(key) is UNKNOWN:
                changed.add(key)
            continue
        if new != canonical(state.get(key), rule.unordered):
            changed.add(key)
    return changed


def check_options(declared: Declared) -> pulumi.ResourceOptions:
    options = declared.options
    for key, value in vars(options).items():
        if key in _HONORED_OPTIONS or key in _SET_BY_THE_SDK:
            continue
        if key == "hooks" and value is not None:
            # The SDK fills in an empty binding; only a bound hook is something to run.
            value = {name: hook for name, hook in vars(value).items() if hook} or None
        if value not in (None, [], {}, False):
            raise UnsupportedDeclaration(
                f"{declared.name!r}: the program never set the resource option "
                f"{key}={value!r} before, so the e2e harness does not simulate it"
            )
    return options
