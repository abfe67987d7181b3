"""What each function's code can reach, read statically from functions/ with `ast`.

From a handler, follow the calls and references it makes (into `parley` and its own package) to
every function and class it can reach, and collect from that code:
- the settings models it validates (`get_settings(X)` / `load(X)`), whose required fields are
  the environment variables Terraform must set;
- the AWS operations it calls (`put_item`, `post_to_connection`, …) and the DynamoDB indexes it
  names, which the function's IAM role must allow.

The reading over-approximates on purpose (a class reached means all its methods are reached, a
call is matched by name), so it errs towards asking for a grant, never towards missing one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tasks.core.manifest import ROOT

FUNCTIONS = ROOT / "functions"

# boto3 operation (client or resource method) => IAM actions it needs.
OPERATION_ACTIONS: dict[str, tuple[str, ...]] = {
    "get_item": ("dynamodb:GetItem",),
    "put_item": ("dynamodb:PutItem",),
    "update_item": ("dynamodb:UpdateItem",),
    "delete_item": ("dynamodb:DeleteItem",),
    "query": ("dynamodb:Query",),
    "scan": ("dynamodb:Scan",),
    "batch_get_item": ("dynamodb:BatchGetItem",),
    "batch_write_item": ("dynamodb:BatchWriteItem",),
    "batch_writer": ("dynamodb:BatchWriteItem",),
    "transact_get_items": ("dynamodb:GetItem",),
    # transact_write_items needs the action of each item kind (see TRANSACT_ITEM_ACTIONS).
    "get_parameter": ("ssm:GetParameter",),
    "get_parameters": ("ssm:GetParameters",),
    "get_secret_value": ("secretsmanager:GetSecretValue",),
    "post_to_connection": ("execute-api:ManageConnections",),
    "get_connection": ("execute-api:ManageConnections",),
    "delete_connection": ("execute-api:ManageConnections",),
    "invoke": ("lambda:InvokeFunction",),
    "invoke_model": ("bedrock:InvokeModel",),
    "invoke_model_with_response_stream": ("bedrock:InvokeModelWithResponseStream",),
    "converse": ("bedrock:InvokeModel",),
    "converse_stream": ("bedrock:InvokeModelWithResponseStream",),
    "invoke_agent": ("bedrock:InvokeAgent",),
    "start_execution": ("states:StartExecution",),
    "put_object": ("s3:PutObject",),
    "get_object": ("s3:GetObject",),
    "delete_objects": ("s3:DeleteObject",),
    "list_objects_v2": ("s3:ListBucket",),
    "create_multipart_upload": ("s3:PutObject",),
    "upload_part": ("s3:PutObject",),
    "complete_multipart_upload": ("s3:PutObject",),
    "abort_multipart_upload": ("s3:AbortMultipartUpload",),
    # A presigned link is a request signed with the function's role: it needs the action.
    "generate_presigned_url": ("s3:GetObject",),
    "generate_presigned_post": ("s3:PutObject", "s3:PutObjectTagging"),
    "put_object_tagging": ("s3:PutObjectTagging",),
    "delete_object": ("s3:DeleteObject",),
    "list_users": ("cognito-idp:ListUsers",),
    "admin_disable_user": ("cognito-idp:AdminDisableUser",),
    "admin_enable_user": ("cognito-idp:AdminEnableUser",),
    "admin_user_global_sign_out": ("cognito-idp:AdminUserGlobalSignOut",),
}
# Library classes that make AWS calls for the code (operation as in OPERATION_ACTIONS).
LIBRARY_OPERATIONS: dict[tuple[str, str], str] = {
    ("aws_lambda_powertools.utilities.parameters", "SSMProvider"): "get_parameter",
}
TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
SETTINGS_LOADERS = {"get_settings", "load"}


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    # local name => (module, attribute or None for a module)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = field(
        default_factory=dict
    )


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(FUNCTIONS).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Module]:
    """Every Python module under functions/, parsed."""
    found: dict[str, Module] = {}
    for path in sorted(FUNCTIONS.rglob("*.py")):
        name = _module_name(path)
        module = Module(name, path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in module.tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0],
                        None,
                    )
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = (base, alias.name)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                module.defs[node.name] = node
        found[name] = module
    return found


def _resolve(module: Module, name: str) -> tuple[str, str | None] | None:
    """Where a name used in `module` is defined: (module, def name) or (module, None)."""
    if name in module.defs:
        return module.name, name
    target = module.imports.get(name)
    if target is None:
        return None
    base, attr = target
    known = modules()
    if attr is None:
        return (base, None) if base in known else None
    if f"{base}.{attr}" in known:  # `from parley import store` imports a module
        return f"{base}.{attr}", None
    if base in known:
        return _follow_reexport(base, attr)
    return None


def _follow_reexport(module_name: str, name: str, depth: int = 0) -> tuple[str, str | None] | None:
    module = modules()[module_name]
    if name in module.defs or depth > 5:
        return module_name, name
    target = module.imports.get(name)
    if target and target[1] is not None and target[0] in modules():
        return _follow_reexport(target[0], target[1], depth + 1)
    return module_name, name


@dataclass
class Reach:
    """What one function's code can reach."""

    settings: set[tuple[str, str]] = field(default_factory=set)  # (module, class)
    operations: dict[str, set[str]] = field(default_factory=dict)  # operation => where
    transact_items: dict[str, set[str]] = field(default_factory=dict)  # item kind => where
    indexes: dict[str, set[str]] = field(default_factory=dict)  # IndexName => where
    nodes: set[tuple[str, str]] = field(default_factory=set)

    def actions(self) -> dict[str, set[str]]:
        """IAM action => the code locations that need it."""
        needed: dict[str, set[str]] = {}
        for operation, where in self.operations.items():
            for action in OPERATION_ACTIONS.get(operation, ()):
                needed.setdefault(action, set()).update(where)
        for kind, where in self.transact_items.items():
            needed.setdefault(TRANSACT_ITEM_ACTIONS[kind], set()).update(where)
        return needed


_ALWAYS_METHODS = {"__init__", "__post_init__", "__call__", "__enter__", "__exit__", "__iter__",
                   "__next__", "__aenter__", "__aexit__"}  # fmt: skip
_NOT_REGISTRATIONS = {"cache", "lru_cache", "cached_property", "property", "staticmethod",
                      "classmethod", "dataclass", "overload", "field_validator",
                      "model_validator", "contextmanager"}  # fmt: skip


def _registers(decorator: ast.expr) -> bool:
    """A decorator like `@router.get("/x")` registers its function: reached on import."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return isinstance(target, ast.Attribute) and name not in _NOT_REGISTRATIONS


def _methods(node: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {n.name: n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


@cache
def reach(handler: str) -> Reach:
    """Everything reachable from a manifest handler (`package.module.function`).

    Functions are reached by name; a class reached brings its constructor and class body, and
    each method whose name is used as an attribute anywhere in reached code.
    """
    module_name, _, function = handler.rpartition(".")
    known = modules()
    result = Reach()
    queue: list[tuple[str, str | None]] = [(module_name, None), (module_name, function)]
    seen_modules: set[str] = set()
    classes: set[tuple[str, str]] = set()
    attributes: set[str] = set()
    while queue:
        mod_name, def_name = queue.pop()
        module = known.get(mod_name)
        if module is None:
            continue
        bodies: list[ast.AST] = []
        if def_name is None:
            if mod_name in seen_modules:
                continue
            seen_modules.add(mod_name)
            # Module-level code runs on import: its statements, decorators and registrations.
            for n in module.tree.body:
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    bodies.extend(n.decorator_list)
                    if not isinstance(n, ast.ClassDef) and any(map(_registers, n.decorator_list)):
                        queue.append((mod_name, n.name))
                else:
                    bodies.append(n)
            package = mod_name.rpartition(".")[0]
            if package in known:
                queue.append((package, None))  # importing a module runs its package first
        else:
            key = (mod_name, def_name)
            if key in result.nodes:
                continue
            result.nodes.add(key)
            queue.append((mod_name, None))
            class_name, _, method = def_name.partition(".")
            definition = module.defs.get(class_name)
            if definition is None:
                continue
            if isinstance(definition, ast.ClassDef) and method:
                found = _methods(definition).get(method)
                bodies = [found] if found is not None else []
            elif isinstance(definition, ast.ClassDef):
                classes.add(key)
                methods = _methods(definition)
                bodies = [n for n in definition.body if n not in methods.values()]
                bodies.extend(definition.bases)
                bodies.extend(definition.decorator_list)
                for base in definition.bases:
                    if isinstance(base, ast.Name) and (target := _resolve(module, base.id)):
                        queue.append(target)
                for name in methods:
                    if name in _ALWAYS_METHODS or name in attributes:
                        queue.append((mod_name, f"{def_name}.{name}"))
            else:
                bodies = [definition]
        for body in bodies:
            new_attributes = _scan(module, body, queue, result)
            fresh = new_attributes - attributes
            attributes |= fresh
            for class_module, class_name in classes:
                class_def = known[class_module].defs[class_name]
                assert isinstance(class_def, ast.ClassDef)
                for name in fresh & set(_methods(class_def)):
                    queue.append((class_module, f"{class_name}.{name}"))
    return result


def _scan(
    module: Module,
    body: ast.AST,
    queue: list[tuple[str, str | None]],
    result: Reach,
) -> set[str]:
    """Scan one body; return the attribute names it uses (methods they may call)."""
    where = f"{module.path.relative_to(ROOT)}"
    attributes: set[str] = set()
    for node in ast.walk(body):  # imports inside functions (lazy SDK imports) count too
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                module.imports.setdefault(alias.asname or alias.name, (node.module, alias.name))
    for node in ast.walk(body):
        if isinstance(node, ast.Name):
            target = _resolve(module, node.id)
            if target is not None:
                queue.append(target)
            operation = LIBRARY_OPERATIONS.get(module.imports.get(node.id, ("", None)))  # type: ignore[arg-type]
            if operation is not None:
                result.operations.setdefault(operation, set()).add(f"{where}:{node.lineno}")
        elif isinstance(node, ast.Attribute):
            attributes.add(node.attr)
            if isinstance(node.value, ast.Name):
                base = _resolve(module, node.value.id)
                if base is not None and base[1] is None and base[0] in modules():
                    queue.append(_follow_reexport(base[0], node.attr) or (base[0], None))
            if node.attr in OPERATION_ACTIONS:
                line = f"{where}:{node.lineno}"
                result.operations.setdefault(node.attr, set()).add(line)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in SETTINGS_LOADERS and node.args and isinstance(node.args[0], ast.Name):
                target = _resolve(module, node.args[0].id)
                if target is not None and target[1] is not None:
                    result.settings.add((target[0], target[1]))
            for keyword in node.keywords:
                if keyword.arg == "IndexName" and isinstance(keyword.value, ast.Constant):
                    result.indexes.setdefault(str(keyword.value.value), set()).add(
                        f"{where}:{node.lineno}"
                    )
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if not isinstance(key, ast.Constant):
                    continue
                if key.value in TRANSACT_ITEM_ACTIONS and isinstance(value, ast.Dict):
                    inner = {k.value for k in value.keys if isinstance(k, ast.Constant)}
                    if "TableName" in inner or "Key" in inner or "Item" in inner:
                        result.transact_items.setdefault(str(key.value), set()).add(
                            f"{where}:{node.lineno}"
                        )
                if key.value == "IndexName" and isinstance(value, ast.Constant):
                    result.indexes.setdefault(str(value.value), set()).add(f"{where}:{node.lineno}")
    return attributes
