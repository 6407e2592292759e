"""The workflow builder's form: browser inputs <-> the definition the services take.

A workflow is edited as plain inputs (trigger settings, a tree of condition rows, a list
of actions with their settings and per-language texts). ``WorkflowForm.definition()``
turns them into the very JSON the API takes, and remembers which input each setting came
from, so the service's errors (``trigger.fields[0]``, ``conditions.all[1].any[0].value``,
``actions[2].subject``) are shown next to that input. Nothing here validates beyond
giving browser text a JSON type: the rules and messages are the services'."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metadata.selectors.records import OPERATORS
from metadata.workflows.definition import TRIGGERS

INT_RE = re.compile(r"-?\d+")  # with fullmatch
MAX_ROWS = 50

TRIGGER_LABELS = {
    "record_created": gettext_lazy("A record is created"),
    "record_updated": gettext_lazy("A record is updated"),
    "record_deleted": gettext_lazy("A record is deleted"),
    "date_relative": gettext_lazy("Relative to a date of the record"),
    "schedule": gettext_lazy("On a schedule (cron)"),
    "manual": gettext_lazy("Only when run by hand"),
}
OPERATOR_LABELS = {
    "eq": gettext_lazy("equals"),
    "ne": gettext_lazy("does not equal"),
    "in": gettext_lazy("is one of (comma separated)"),
    "gt": gettext_lazy("greater than"),
    "gte": gettext_lazy("at least"),
    "lt": gettext_lazy("less than"),
    "lte": gettext_lazy("at most"),
    "contains": gettext_lazy("contains"),
    "isnull": gettext_lazy("is empty (true/false)"),
}
ACTION_LABELS = {
    "update_field": gettext_lazy("Update a field"),
    "create_task": gettext_lazy("Create a task"),
    "create_case": gettext_lazy("Create a case"),
    "send_email": gettext_lazy("Send an e-mail"),
    "send_sms": gettext_lazy("Send an SMS"),
    "webhook": gettext_lazy("Send a webhook event"),
    "add_tag": gettext_lazy("Tag the guest"),
    "remove_tag": gettext_lazy("Untag the guest"),
    "assign_owner": gettext_lazy("Assign an owner"),
    "wait": gettext_lazy("Wait"),
}


@dataclass(frozen=True)
class Setting:
    """One setting of an action type as the builder shows it."""

    name: str
    label: Any
    widget: str = "text"  # text, int, textarea, texts (per language), select, json, list
    choices: tuple[tuple[str, Any], ...] = ()

    @property
    def input_kind(self) -> str:
        return "number" if self.widget == "int" else "text"

    @property
    def suggest(self) -> str:
        """The datalist of field names for settings that name a field."""
        return "wf-fields" if self.name == "field" else ""


def _assignee() -> tuple[Setting, ...]:
    return (
        Setting("assign_to", gettext_lazy("Assign to (user e-mail)")),
        Setting("role", gettext_lazy("Or to a role (key)")),
    )


PURPOSES = (("service", gettext_lazy("Service")), ("marketing", gettext_lazy("Marketing")))
ACTION_SETTINGS: dict[str, tuple[Setting, ...]] = {
    "update_field": (
        Setting("field", gettext_lazy("Field")),
        Setting("value", gettext_lazy("New value")),
    ),
    "create_task": (
        Setting("subject", gettext_lazy("Subject"), "texts"),
        Setting("body", gettext_lazy("Details"), "texts"),
        Setting("due_in_hours", gettext_lazy("Due in (hours)"), "int"),
        *_assignee(),
    ),
    "create_case": (
        Setting("subject", gettext_lazy("Subject"), "texts"),
        Setting("description", gettext_lazy("Description"), "texts"),
        Setting("kind", gettext_lazy("Kind")),
        Setting("category", gettext_lazy("Category")),
        Setting("priority", gettext_lazy("Priority")),
        Setting("deadline_in_hours", gettext_lazy("Deadline in (hours)"), "int"),
        *_assignee(),
    ),
    "send_email": (
        Setting("purpose", gettext_lazy("Purpose"), "select", PURPOSES),
        Setting("subject", gettext_lazy("Subject"), "texts"),
        Setting("body", gettext_lazy("Message"), "texts"),
        Setting("to", gettext_lazy("Recipient path (empty: the record's guest)")),
    ),
    "send_sms": (
        Setting("purpose", gettext_lazy("Purpose"), "select", PURPOSES),
        Setting("body", gettext_lazy("Message"), "texts"),
        Setting("to", gettext_lazy("Recipient path (empty: the record's guest)")),
    ),
    "webhook": (
        Setting("event_type", gettext_lazy("Event (workflow.<name>)")),
        Setting("data", gettext_lazy("Extra data (JSON object)"), "json"),
    ),
    "add_tag": (Setting("tag", gettext_lazy("Tag")),),
    "remove_tag": (Setting("tag", gettext_lazy("Tag")),),
    "assign_owner": (
        Setting(
            "strategy",
            gettext_lazy("Strategy"),
            "select",
            (
                ("round_robin", gettext_lazy("Round robin")),
                ("by_field", gettext_lazy("By a field's value")),
            ),
        ),
        Setting("users", gettext_lazy("Users (e-mails, comma separated)"), "list"),
        Setting("role", gettext_lazy("Or a role (key)")),
        Setting("field", gettext_lazy("Field")),
        Setting("map", gettext_lazy("Value to e-mail (JSON object)"), "json"),
        Setting("default", gettext_lazy("Default e-mail")),
    ),
    "wait": (
        Setting("minutes", gettext_lazy("Minutes"), "int"),
        Setting("hours", gettext_lazy("Hours"), "int"),
        Setting("days", gettext_lazy("Days"), "int"),
    ),
}


@dataclass
class Node:
    """A condition group (``join`` all/any with ``items``) or a leaf (field, op, value)."""

    path: str = "0"
    join: str = ""  # "all" / "any" for a group, "" for a leaf
    items: list[Node] = field(default_factory=list)
    field: str = ""
    op: str = "eq"
    value: str = ""

    @property
    def is_group(self) -> bool:
        return bool(self.join)


@dataclass
class ActionRow:
    index: int
    type: str
    values: dict[str, Any] = field(default_factory=dict)  # setting -> text or {lang: text}

    def settings(self) -> list[dict]:
        return [
            {
                "setting": s,
                "value": self.values.get(s.name, {} if s.widget == "texts" else ""),
                "input": f"action.{self.index}.{s.name}",
            }
            for s in ACTION_SETTINGS.get(self.type, ())
        ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _typed(raw: str) -> Any:
    """Whole numbers become numbers, anything else stays text: the services then say
    what they expected."""
    raw = raw.strip()
    return int(raw) if INT_RE.fullmatch(raw) else raw


class WorkflowForm:
    """The builder's inputs for one workflow (new when ``workflow`` is None)."""

    def __init__(self, *, languages: list[tuple[str, str]], workflow=None, data=None):
        self.languages = languages
        self.workflow = workflow
        self.errors: dict[str, list[str]] = {}  # input name -> messages
        self.non_field_errors: list[str] = []
        self.error_inputs: dict[str, str] = {}  # service error key -> input name
        if data is not None:
            self._from_post(data)
        elif workflow is not None:
            self._from_workflow(workflow)
        else:
            self.key, self.object, self.owner_module, self.enabled = "", "", "", True
            self.names: dict[str, str] = {}
            self.trigger: dict[str, Any] = {"type": "record_created", "changes": []}
            self.root = Node(join="all")
            self.actions: list[ActionRow] = []
        self._number(self.root, "0")

    # --- loading --------------------------------------------------------------------

    def _from_workflow(self, workflow) -> None:
        from metadata.services.workflows import workflow_as_dict

        data = workflow_as_dict(workflow)
        self.key, self.object = data["key"], data["object"]
        self.owner_module, self.enabled = data["owner_module"], data["enabled"]
        self.names = {lang: t.get("name", "") for lang, t in data["translations"].items()}
        trigger = dict(data["trigger"] or {"type": "manual"})
        changes = []
        for change in trigger.get("changes", []):
            row = {"field": change.get("field", "")}
            for end in ("from", "to"):
                if end in change:
                    row[f"{end}_op"] = change[end].get("op", "eq")
                    row[f"{end}_value"] = _text(change[end].get("value"))
            changes.append(row)
        trigger["changes"] = changes
        trigger["fields"] = ", ".join(trigger.get("fields", []))
        if "offset" in trigger:
            trigger["offset"] = _text(trigger["offset"])
        trigger["yearly"] = "1" if trigger.get("yearly") is True else ""
        self.trigger = trigger
        tree = data["conditions"] or {}
        self.root = self._node(tree) if tree else Node(join="all")
        if not self.root.is_group:
            self.root = Node(join="all", items=[self.root])
        self.actions = []
        for index, action in enumerate(data["actions"]):
            kind = action.get("type", "")
            values: dict[str, Any] = {}
            for setting in ACTION_SETTINGS.get(kind, ()):
                value = action.get(setting.name)
                if setting.widget == "texts":
                    values[setting.name] = value if isinstance(value, dict) else {"en": value or ""}
                elif setting.widget == "json":
                    values[setting.name] = json.dumps(value, ensure_ascii=False) if value else ""
                else:
                    values[setting.name] = _text(value)
            self.actions.append(ActionRow(index=index, type=kind, values=values))

    def _node(self, tree: dict) -> Node:
        for join in ("all", "any"):
            if join in tree:
                return Node(join=join, items=[self._node(item) for item in tree[join]])
        return Node(
            field=str(tree.get("field", "")),
            op=str(tree.get("op", "eq")),
            value=_text(tree.get("value")),
        )

    def _from_post(self, data: QueryDict) -> None:
        self.key = (data.get("key") or "").strip()
        self.object = data.get("object") or ""
        self.owner_module = data.get("owner_module") or ""
        self.enabled = data.get("enabled") == "1"
        self.names = {code: data.get(f"name.{code}", "") for code, _name in self.languages}
        trigger: dict[str, Any] = {
            k[len("trigger.") :]: v
            for k, v in data.items()
            if k.startswith("trigger.") and not k.startswith("trigger.changes.")
        }
        trigger.setdefault("type", "record_created")
        changes: dict[int, dict[str, str]] = {}
        for key, value in data.items():
            parts = key.split(".")
            if len(parts) == 4 and parts[:2] == ["trigger", "changes"] and parts[2].isdigit():
                changes.setdefault(int(parts[2]), {})[parts[3]] = str(value)
        trigger["changes"] = [changes[i] for i in sorted(changes)][:MAX_ROWS]
        self.trigger = trigger
        self.root = self._tree_from_post(data)
        rows: dict[int, dict[str, Any]] = {}
        for key, value in data.items():
            parts = key.split(".")
            if parts[0] != "action" or len(parts) < 3 or not parts[1].isdigit():
                continue
            row = rows.setdefault(int(parts[1]), {})
            if len(parts) == 4:  # action.0.subject.zh-hans
                row.setdefault(parts[2], {})[parts[3]] = value
            else:
                row[parts[2]] = value
        self.actions = []
        for position, index in enumerate(sorted(rows)[:MAX_ROWS]):
            row = rows[index]
            self.actions.append(
                ActionRow(index=position, type=str(row.pop("type", "")), values=row)
            )

    def _tree_from_post(self, data: QueryDict) -> Node:
        nodes: dict[str, Node] = {}
        for key, value in data.items():
            parts = key.split(".")
            if parts[0] != "cond" or len(parts) != 3:
                continue
            path, attr = parts[1], parts[2]
            if not all(p.isdigit() for p in path.split("-")):
                continue
            node = nodes.setdefault(path, Node(path=path))
            if attr == "join" and value in ("all", "any"):
                node.join = value
            elif attr in ("field", "op", "value"):
                setattr(node, attr, value)
        root = nodes.get("0") or Node(path="0", join="all")
        root.join = root.join or "all"

        def order(path: str) -> tuple[int, ...]:
            return tuple(int(p) for p in path.split("-"))

        for path in sorted(nodes, key=order):
            if path == "0":
                continue
            parent = nodes.get(path.rsplit("-", 1)[0])
            if parent is not None and parent.is_group:
                parent.items.append(nodes[path])
        return root

    def _number(self, node: Node, path: str) -> None:
        node.path = path
        for index, item in enumerate(node.items):
            self._number(item, f"{path}-{index}")

    # --- edits (add / remove rows) --------------------------------------------------

    def _find(self, path: str) -> tuple[Node | None, Node | None]:
        """(parent, node) at path."""
        parent, node = None, self.root
        for part in path.split("-")[1:]:
            if not node.is_group or int(part) >= len(node.items):
                return None, None
            parent, node = node, node.items[int(part)]
        return parent, node

    def edit(self, command: str) -> None:
        """Apply an add/remove/move button's command and renumber the rows."""
        verb, _sep, arg = command.partition(":")
        if verb in ("add_leaf", "add_group"):
            _parent, group = self._find(arg)
            if group is not None and group.is_group and len(group.items) < MAX_ROWS:
                leaf = Node()
                group.items.append(Node(join="any", items=[leaf]) if verb == "add_group" else leaf)
        elif verb == "remove" and arg != "0":
            parent, node = self._find(arg)
            if parent is not None and node is not None:
                parent.items.remove(node)
        elif verb == "add_change" and len(self.trigger["changes"]) < MAX_ROWS:
            self.trigger["changes"].append({"field": "", "to_op": "eq"})
        elif verb == "remove_change" and arg.isdigit() and int(arg) < len(self.trigger["changes"]):
            del self.trigger["changes"][int(arg)]
        elif verb == "add_action" and len(self.actions) < MAX_ROWS:
            self.actions.append(ActionRow(index=len(self.actions), type=arg or "create_task"))
        elif verb == "remove_action" and arg.isdigit() and int(arg) < len(self.actions):
            del self.actions[int(arg)]
        elif verb in ("up", "down") and arg.isdigit() and int(arg) < len(self.actions):
            i = int(arg)
            j = i - 1 if verb == "up" else i + 1
            if 0 <= j < len(self.actions):
                self.actions[i], self.actions[j] = self.actions[j], self.actions[i]
        for index, action in enumerate(self.actions):
            action.index = index
        self._number(self.root, "0")

    # --- the definition -------------------------------------------------------------

    def name(self) -> dict[str, str]:
        return {code: text.strip() for code, text in self.names.items() if text.strip()}

    def definition(self) -> dict[str, Any]:
        """trigger, conditions and actions as the API takes them. Raises ValueError
        (input name, message) when a JSON setting is not JSON."""
        self.error_inputs = {
            "key": "key",
            "name": f"name.{self.languages[0][0]}" if self.languages else "name.en",
            "object": "object",
            "owner_module": "owner_module",
            "enabled": "enabled",
            "trigger": "trigger.type",
        }
        return {
            "trigger": self._trigger(),
            "conditions": self._conditions(self.root, "conditions"),
            "actions": [self._action(position, row) for position, row in enumerate(self.actions)],
        }

    def _trigger(self) -> dict[str, Any]:
        raw = self.trigger
        kind = raw.get("type", "")
        out: dict[str, Any] = {"type": kind}
        for key in ("type", "field", "offset", "unit", "at", "yearly", "cron", "fields"):
            self.error_inputs[f"trigger.{key}"] = f"trigger.{key}"
        if kind == "record_updated":
            names = [n.strip() for n in str(raw.get("fields", "")).split(",") if n.strip()]
            out["fields"] = names
            for index in range(len(names)):
                self.error_inputs[f"trigger.fields[{index}]"] = "trigger.fields"
            changes = []
            for index, row in enumerate(raw.get("changes", [])):
                base = f"trigger.changes[{index}]"
                item: dict[str, Any] = {"field": row.get("field", "").strip()}
                self.error_inputs[base] = f"trigger.changes.{index}.field"
                self.error_inputs[f"{base}.field"] = f"trigger.changes.{index}.field"
                for end in ("from", "to"):
                    value = row.get(f"{end}_value", "")
                    if value.strip() or row.get(f"{end}_op", "eq") == "isnull":
                        op = row.get(f"{end}_op", "eq")
                        item[end] = {"op": op, "value": _leaf_value(op, value)}
                        for suffix in ("", ".op"):
                            self.error_inputs[f"{base}.{end}{suffix}"] = (
                                f"trigger.changes.{index}.{end}_value"
                                if not suffix
                                else f"trigger.changes.{index}.{end}_op"
                            )
                changes.append(item)
            out["changes"] = changes
        elif kind == "date_relative":
            out["field"] = str(raw.get("field", "")).strip()
            out["offset"] = _typed(str(raw.get("offset", "0")) or "0")
            out["unit"] = raw.get("unit") or "days"
            out["at"] = (raw.get("at") or "09:00").strip()
            out["yearly"] = raw.get("yearly") in ("1", "true", True)
        elif kind == "schedule":
            out["cron"] = str(raw.get("cron", ""))
        return out

    def _conditions(self, node: Node, path: str) -> dict[str, Any]:
        if not node.is_group:
            self.error_inputs[path] = f"cond.{node.path}.field"
            for attr in ("field", "op", "value"):
                self.error_inputs[f"{path}.{attr}"] = f"cond.{node.path}.{attr}"
            return {
                "field": node.field.strip(),
                "op": node.op,
                "value": _leaf_value(node.op, node.value),
            }
        items: list[dict[str, Any]] = []
        for item in node.items:
            if item.is_group and not item.items:
                continue  # an emptied group means nothing
            items.append(self._conditions(item, f"{path}.{node.join}[{len(items)}]"))
        self.error_inputs[f"{path}.{node.join}"] = f"cond.{node.path}.join"
        self.error_inputs.setdefault(path, f"cond.{node.path}.join")
        if not items:
            return {}
        return {node.join: items}

    def _action(self, position: int, row: ActionRow) -> dict[str, Any]:
        base = f"actions[{position}]"
        self.error_inputs[base] = f"action.{row.index}.type"
        self.error_inputs[f"{base}.type"] = f"action.{row.index}.type"
        out: dict[str, Any] = {"type": row.type}
        for setting in ACTION_SETTINGS.get(row.type, ()):
            name = f"action.{row.index}.{setting.name}"
            self.error_inputs[f"{base}.{setting.name}"] = (
                f"{name}.{self.languages[0][0]}" if setting.widget == "texts" else name
            )
            value = row.values.get(setting.name)
            if setting.widget == "texts":
                texts = {k: v for k, v in (value or {}).items() if isinstance(v, str) and v.strip()}
                if texts:
                    out[setting.name] = texts
                continue
            text = (value or "").strip() if isinstance(value, str) else ""
            if not text:
                continue
            if setting.widget == "int":
                out[setting.name] = _typed(text)
            elif setting.widget == "json":
                try:
                    out[setting.name] = json.loads(text)
                except ValueError:
                    raise ValueError(
                        name, _("%(setting)s is not valid JSON.") % {"setting": setting.name}
                    ) from None
            elif setting.widget == "list":
                out[setting.name] = [p.strip() for p in text.split(",") if p.strip()]
            else:
                out[setting.name] = text
        return out

    # --- errors ---------------------------------------------------------------------

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        """Each message next to the input its setting came from; a setting with no
        input of its own goes to the nearest one above it, prefixed with its path."""
        for key, messages in errors.items():
            target, exact = self.error_inputs.get(key), True
            parent = key
            while target is None and ("." in parent or "[" in parent):
                parent = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", parent)
                target, exact = self.error_inputs.get(parent), False
            if target is None:
                self.non_field_errors += [
                    m if key == "__all__" else f"{key}: {m}" for m in messages
                ]
            else:
                self.errors.setdefault(target, []).extend(
                    m if exact else f"{key}: {m}" for m in messages
                )

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.non_field_errors)


def _leaf_value(op: str, raw: str) -> Any:
    raw = raw or ""
    if op == "in":
        return [_typed(p) for p in raw.split(",") if p.strip()]
    if op == "isnull":
        return raw.strip().lower() in ("1", "true", "yes", "")
    return _typed(raw) if raw.strip() else raw


def trigger_choices() -> list[tuple[str, str]]:
    # Named events (a module's, such as case_sla_breached) are set through the API.
    return [(kind, str(TRIGGER_LABELS.get(kind, kind))) for kind in TRIGGERS if kind != "event"]


def operator_choices() -> list[tuple[str, str]]:
    return [(op, str(OPERATOR_LABELS.get(op, op))) for op in OPERATORS]
