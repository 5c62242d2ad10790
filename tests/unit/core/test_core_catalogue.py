"""The catalogue, the models and the ASL agree with each other."""

import json

from rapport.settings import Settings, load_settings, to_environment
from rapport.store.models import ALL_MODELS
from rapport_infra.catalogue import FUNCTIONS, JOURNEY, TABLES


def test_every_table_in_the_catalogue_has_a_model_and_back():
    assert {model.short_name for model in ALL_MODELS} | {"idempotency"} == set(TABLES)


def test_every_function_has_a_handler_and_the_journey_names_only_journey_functions():
    definition = JOURNEY.definition_file.read_text()
    for spec in FUNCTIONS:
        assert (spec.folder / "handler.py").is_file(), spec.name
        named = "${" + spec.substitution_key + "}" in definition
        assert named == (spec.trigger == "journey"), spec.name
    states = json.loads(definition)["States"]
    assert states["RouteReply"]["Default"] == "AnswerReply"


def test_settings_round_trip_through_the_environment(tmp_path):
    settings = Settings(client_id="acme-za", client_config_path=tmp_path / "c.json", table_prefix="rapport-acme-za")
    assert load_settings(to_environment(settings)) == settings
