"""EnvConfig and AzureConfig: one test per rule of the original workflow's credential handling."""

from __future__ import annotations

import json
import logging
import warnings

import pytest
from identity_fakes import loopback_only

from mlops.azure_client import ml_client
from mlops.config import AzureConfig, EnvConfig, EnvFileNotFound, OverrideWarning
from mlops.errors import MlopsError

SECRET = "p@ss$word-do-not-print"


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_a_file_is_parsed_by_python_dotenv_without_interpolation(tmp_path):
    env_file = write(tmp_path / ".env", "# comment\nexport subscription_id=abc\nQUOTED='a b'\n"
                                        f'CLIENT_SECRET="{SECRET}"\nREF=${{QUOTED}}\nNO_VALUE\n')
    env = EnvConfig(env_file, environ={})
    assert env["subscription_id"] == "abc"
    assert env["QUOTED"] == "a b"
    assert env["CLIENT_SECRET"] == SECRET  # `$word` is not expanded
    assert env["REF"] == "${QUOTED}"
    assert "NO_VALUE" not in env


def test_no_path_looks_in_the_current_folder_then_its_parent(tmp_path, monkeypatch):
    child = tmp_path / "experiment"
    child.mkdir()
    write(tmp_path / ".env", "where=parent\n")
    monkeypatch.chdir(child)
    assert EnvConfig(environ={})["where"] == "parent"
    write(child / ".env", "where=here\n")
    assert EnvConfig(environ={})["where"] == "here"
    assert EnvConfig(environ={}).files == [child / ".env"]


def test_a_folder_loads_dotenv_then_named_env_files_in_order(tmp_path):
    write(tmp_path / ".env", "a=1\n")
    write(tmp_path / "b.env", "b=2\n")
    write(tmp_path / "azure-export-dev-config.env", "c=3\n")
    write(tmp_path / ".env.example", "d=4\n")
    env = EnvConfig(tmp_path, environ={})
    assert [f.name for f in env.files] == [".env", "azure-export-dev-config.env", "b.env"]
    assert dict(env) == {"a": "1", "b": "2", "c": "3"}


def test_environment_variables_need_the_prefix_and_lose_it(tmp_path):
    write(tmp_path / ".env", "from_file=1\n")
    environ = {"MLOPS_subscription_id": "sub", "subscription_id": "ignored", "PATH": "/bin", "MLOPS_": "x"}
    env = EnvConfig(tmp_path / ".env", environ=environ)
    assert dict(env) == {"from_file": "1", "subscription_id": "sub"}
    assert env.source("subscription_id") == "environment variable MLOPS_subscription_id"


def test_the_prefix_is_a_parameter_and_file_keys_may_carry_it(tmp_path):
    write(tmp_path / ".env", "RSI_AZURE_subscription_id=sub\nplain=1\n")
    env = EnvConfig(tmp_path / ".env", prefix="RSI_", environ={"RSI_token_name": "t", "MLOPS_x": "no"})
    assert dict(env) == {"AZURE_subscription_id": "sub", "plain": "1", "token_name": "t"}


def test_a_later_file_overriding_a_key_warns_naming_the_key_never_the_value(tmp_path):
    first = write(tmp_path / "first.env", f"client_secret={SECRET}\nsame=1\n")
    second = write(tmp_path / "second.env", "client_secret=newer-secret-value\nsame=1\n")
    with pytest.warns(OverrideWarning) as caught:
        env = EnvConfig([first, second], environ={"MLOPS_same": "2"})
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2  # an unchanged value is no override
    assert "overrides client_secret set by" in messages[0] and str(first) in messages[0]
    assert "overrides same" in messages[1] and "environment variable MLOPS_same" in messages[1]
    assert not any(SECRET in m or "newer-secret-value" in m for m in messages)
    assert env["client_secret"] == "newer-secret-value" and env["same"] == "2"


def test_mapping_access_and_lowerkeys(tmp_path):
    env = EnvConfig(write(tmp_path / ".env", "SUBSCRIPTION_ID=sub\nWorkspace_Name=ws\n"), environ={})
    assert env["subscription_id"] == "sub"  # case-insensitive fallback
    assert env.get("missing", "default") == "default"
    lower = env.lowerkeys()
    assert dict(lower) == {"subscription_id": "sub", "workspace_name": "ws"}
    assert SECRET not in repr(lower)
    with pytest.raises(KeyError, match="missing"):
        env["missing"]


def test_a_missing_file_raises_only_if_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EnvFileNotFound, match=r"no \.env file in .* error_no_file_found=False"):
        EnvConfig(environ={})
    with pytest.raises(EnvFileNotFound, match="nope.env does not exist"):
        EnvConfig(tmp_path / "nope.env", environ={})
    with pytest.raises(EnvFileNotFound, match="no .env or \\*.env file in folder"):
        EnvConfig(tmp_path, environ={})
    assert isinstance(EnvFileNotFound("x"), MlopsError)
    assert dict(EnvConfig(tmp_path / "nope.env", error_no_file_found=False, environ={"MLOPS_k": "v"})) == {"k": "v"}
    assert dict(EnvConfig(error_no_file_found=False, environ={})) == {}


def test_no_secret_in_repr_str_logs_or_errors(tmp_path, caplog):
    env_file = write(tmp_path / ".env", f"client_secret={SECRET}\n")  # unreadable lines: see below
    with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = EnvConfig([env_file, env_file], environ={"MLOPS_client_secret": SECRET + "2"})
        shown = [repr(env), str(env), f"{env}", repr(env.items()), repr(env.values()), repr(env.lowerkeys())]
        with pytest.raises(KeyError) as missing:
            env["other"]
    assert "client_secret" in repr(env) and "values hidden" in repr(env)
    everything = "\n".join(shown + [str(missing.value), caplog.text] + [str(w.message) for w in caught])
    assert SECRET not in everything


def test_azure_config_merges_json_dotenv_and_environment(tmp_path, recwarn):
    write(tmp_path / "azure-config.json", json.dumps({"$schema": "./schemas/azure-config.schema.json",
                                                      "resource_group": "rg", "workspace_name": "ws",
                                                      "location": "westeurope"}))
    write(tmp_path / "azure-compute-config.json", json.dumps({"compute_node_name": "cpu", "max_nodes": 2}))
    write(tmp_path / ".env", f"AZURE_SUBSCRIPTION_ID=sub-from-dotenv\nAZURE_CLIENT_SECRET={SECRET}\n")
    config = AzureConfig(tmp_path, environ={"MLOPS_AZURE_tenant_id": "tenant", "AZURE_CLIENT_ID": "client",
                                            "AZURE_SUBSCRIPTION_ID": "sub-from-secret", "OTHER": "x"})
    assert config.workspace == {"subscription_id": "sub-from-secret", "resource_group_name": "rg",
                                "workspace_name": "ws"}
    assert (config["tenant_id"], config["client_id"], config["max_nodes"]) == ("tenant", "client", "2")
    assert config["client_secret"] == SECRET and "$schema" not in config and "other" not in config
    assert [str(w.message) for w in recwarn.list] == [
        "environment variable AZURE_SUBSCRIPTION_ID: overrides subscription_id set by "
        f"{tmp_path / '.env'} (values not shown)"]
    assert SECRET not in repr(config) + str(config)


def test_azure_config_names_what_is_missing_and_where_to_put_it(tmp_path):
    write(tmp_path / "azure-config.json", '{"resource_group": "rg",\n "workspace_name": }')
    with pytest.raises(MlopsError, match=r"azure-config.json:2:20: not valid JSON"):
        AzureConfig(tmp_path, environ={})
    write(tmp_path / "azure-config.json", '{"resource_group": "rg", "workspace_name": "ws"}')
    with pytest.raises(MlopsError, match="subscription_id is not set: set AZURE_SUBSCRIPTION_ID in .env"):
        _ = AzureConfig(tmp_path, environ={}).workspace


@pytest.mark.usefixtures("loopback_only")
def test_azure_config_builds_an_ml_client_without_a_network_call(tmp_path):
    assert loopback_only
    write(tmp_path / "azure-config.json", '{"resource_group": "rg", "workspace_name": "ws"}')
    config = AzureConfig(tmp_path, environ={"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000"})
    client = ml_client(config, credential=object())
    assert (client.subscription_id, client.resource_group_name, client.workspace_name) == (
        "00000000-0000-0000-0000-000000000000", "rg", "ws")


@pytest.mark.parametrize(("text", "line"), [("MLOPS_A=1\nthis is not valid\n", 2),
                                             ('MLOPS_A=1\n# note\nSECRET="s3cr3t-unterminated\n', 3)])
def test_an_unreadable_env_line_is_named_by_number_without_its_text(tmp_path, text, line):
    from mlops.config import EnvFileError

    env_file = tmp_path / ".env"
    env_file.write_text(text)
    with pytest.raises(EnvFileError) as caught:
        EnvConfig(env_file, environ={})
    message = str(caught.value)
    assert message.startswith(f"{env_file}:{line}: not a KEY=value line")
    assert "s3cr3t" not in message and "this is not valid" not in message
