"""Run by tests/ops/test_migrations_forward.py in a subprocess whose DATABASE_URL names a new,
empty database (see that test for what is checked). In a process of its own the scratch database
is the default one, as in production: third-party data migrations that forget `using(...)` then
behave as they do for real."""

from __future__ import annotations

import datetime as dt
import decimal
import os
import uuid
from typing import Any

import django
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualise.config.settings")
MOMENT = dt.datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=dt.UTC)

# Values later migrations change on purpose: (model, column) -> {value written: value after}.
# django-tasks-db 0010/0011 renamed the task status NEW to READY.
INTENDED_CHANGES: dict[tuple[str, str], dict[Any, Any]] = {
    ("django_tasks_database.DBTaskResult", "status"): {"NEW": "READY"},
}


def _within_validators(field: models.Field, value: int) -> int:
    """The value moved inside the field's min/max validators (check constraints mirror them)."""
    from django.core.validators import MaxValueValidator, MinValueValidator

    for validator in field.validators:
        if isinstance(validator, MinValueValidator):
            value = max(value, int(validator.limit_value))  # type: ignore[arg-type]
        elif isinstance(validator, MaxValueValidator):
            value = min(value, int(validator.limit_value))  # type: ignore[arg-type]
    return value


class Filler:
    """Makes one row of any model from the values its fields call for."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.made: dict[str, Any] = {}  # model label -> instance
        self.counter = 0

    def value(self, field: models.Field) -> Any:
        self.counter += 1
        n = self.counter
        if field.choices:
            return next(iter(dict(field.flatchoices)))
        kind = field.get_internal_type()
        if isinstance(field, models.EmailField):
            return f"person{n}@example.org"
        if isinstance(field, models.URLField):
            return f"https://example.org/{n}"
        if kind in {"CharField", "SlugField", "TextField"}:
            text = f"{field.name}-{n}"
            return text[: field.max_length] if field.max_length else text
        if kind in {
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
        }:
            return _within_validators(field, 7 + n % 50)  # small: check constraints bound some
        if kind == "FloatField":
            return 1.5
        if kind == "DecimalField":
            return decimal.Decimal("12.34")
        if kind == "BooleanField":
            return True
        if kind == "DateTimeField":
            return MOMENT + dt.timedelta(minutes=n)
        if kind == "DateField":
            return MOMENT.date() + dt.timedelta(days=n)
        if kind == "TimeField":
            return dt.time(9, 30)
        if kind == "DurationField":
            return dt.timedelta(minutes=n)
        if kind == "UUIDField":
            return uuid.UUID(int=n)
        if kind == "JSONField":
            return {"n": n, "list": [1, "two", None]}
        if kind == "BinaryField":
            return b"bytes-%d" % n
        if kind == "GenericIPAddressField":
            return "192.0.2.1"
        raise AssertionError(f"no representative value for {field!r} ({kind}); add one")

    def make(self, model: type[models.Model]) -> Any:
        label = model._meta.label
        if label in self.made:
            return self.made[label]
        values: dict[str, Any] = {}
        for field in model._meta.concrete_fields:
            if field.primary_key and field.get_internal_type() in {"AutoField", "BigAutoField"}:
                continue
            if field.is_relation:
                target = field.related_model
                if target is model:
                    values[field.attname] = None
                    continue
                values[field.name] = self.make(target)  # type: ignore[arg-type]
            else:
                values[field.attname] = self.value(field)
        instance = model._default_manager.db_manager(self.alias).create(**values)
        self.made[label] = instance
        return instance


def representative_values(instance: models.Model) -> dict[str, Any]:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def main() -> None:
    django.setup()
    scratch_connection = connection
    executor = MigrationExecutor(scratch_connection)
    graph = executor.loader.graph
    # Each app's first migration and what it depends on; per app, the last of those.
    early_nodes = {node for root in graph.root_nodes() for node in graph.forwards_plan(root)}
    earliest = [
        node
        for node in early_nodes
        if not any(
            child in early_nodes and child[0] == node[0] for child in graph.node_map[node].children
        )
    ]
    executor.migrate(earliest)
    leaves = graph.leaf_nodes()
    with_later = sorted(
        app for app, _ in leaves if any(n[0] == app and n not in early_nodes for n in graph.nodes)
    )
    assert with_later, "no app has migrations after its first: nothing to test"

    early_apps = executor.loader.project_state(earliest).apps
    filler = Filler("default")
    populated: dict[str, tuple[Any, dict[str, Any]]] = {}
    for app in with_later:
        app_models = list(early_apps.get_app_config(app).get_models())
        for model in app_models:
            instance = filler.make(model)
            populated[model._meta.label] = (instance.pk, representative_values(instance))
        assert app_models, f"{app} has later migrations but no models to populate at its start"
    # Rows of other apps the populated ones point at, also made through historical models.
    for label, instance in filler.made.items():
        populated.setdefault(label, (instance.pk, representative_values(instance)))

    executor = MigrationExecutor(scratch_connection)
    executor.migrate(leaves)
    executor.loader.build_graph()
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes()), "not fully migrated"

    scratch_connection.check_constraints()  # every foreign key points at a row
    late_apps = executor.loader.project_state(leaves).apps
    survived = 0
    for label, (pk, before) in populated.items():
        app_label, model_name = label.split(".")
        try:
            late_model = late_apps.get_model(app_label, model_name)
        except LookupError:
            continue  # the model was removed by a later migration
        rows = list(late_model._default_manager.db_manager("default").filter(pk=pk).values())
        assert len(rows) == 1, f"{label} row {pk} lost in the migrations"
        after = rows[0]
        changed = {
            name: (value, after[name])
            for name, value in before.items()
            if name in after
            and after[name] != value
            and INTENDED_CHANGES.get((label, name), {}).get(value, value) != after[name]
        }
        assert not changed, f"{label} row {pk} changed in the migrations: {changed}"
        survived += 1
        # Today's model reads the row and finds it valid (new columns got valid values).
        from django.apps import apps as current_apps

        real = current_apps.get_model(app_label, model_name)
        current = real._default_manager.db_manager("default").get(pk=pk)
        if real.__module__.startswith("mutualise."):
            # Our own models validate; third-party ones fill some required fields on save.
            # A protected state field (django-fsm) refuses the reassignment clean_fields makes.
            protected = [f.name for f in real._meta.fields if getattr(f, "protected", False)]
            current.full_clean(exclude=protected, validate_unique=False, validate_constraints=False)
    assert survived >= len(with_later)
    print(
        f"{survived} rows of {len(populated)} models survived; apps with later migrations: {with_later}"
    )


if __name__ == "__main__":
    main()
