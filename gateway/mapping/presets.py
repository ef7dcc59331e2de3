"""Built-in state value maps: PackML state names and codes, and the contract's own names."""

from __future__ import annotations

from shopfloor.contract.payloads import MachineState

RUNNING, IDLE, SETUP, DOWN = (
    MachineState.RUNNING,
    MachineState.IDLE,
    MachineState.SETUP,
    MachineState.DOWN,
)

# ISA-TR88.00.02 (PackML) states with their standard codes, and what each means for the tracker.
# Only Execute produces; a stopped or aborted machine is not producing because of itself (DOWN
# for Aborting/Aborted/Clearing and Holding/Held, an internal fault or intervention); the rest
# are transitions or waiting (IDLE). A plant overrides any of them with `values:`. Some
# bridges number the states their own way (one open-source simulator swaps Idle and Clearing):
# map the state's name where the bridge publishes it (`StateCurrentStr`), or declare the codes.
PACKML_STATES: dict[int, tuple[str, MachineState | None]] = {
    0: ("Undefined", None),
    1: ("Clearing", DOWN),
    2: ("Stopped", IDLE),
    3: ("Starting", IDLE),
    4: ("Idle", IDLE),
    5: ("Suspended", IDLE),
    6: ("Execute", RUNNING),
    7: ("Stopping", IDLE),
    8: ("Aborting", DOWN),
    9: ("Aborted", DOWN),
    10: ("Holding", DOWN),
    11: ("Held", DOWN),
    12: ("Unholding", IDLE),
    13: ("Suspending", IDLE),
    14: ("Unsuspending", IDLE),
    15: ("Resetting", IDLE),
    16: ("Completing", IDLE),
    17: ("Completed", IDLE),
}


def _packml() -> dict[str, MachineState | None]:
    values: dict[str, MachineState | None] = {}
    for code, (name, state) in PACKML_STATES.items():
        values[str(code)] = state
        values[name.lower()] = state
    values["complete"] = IDLE  # TR88.00.02-2015 and OPC UA 30050 spell Completed so
    return values


def _contract() -> dict[str, MachineState | None]:
    return {state.value.lower(): state for state in MachineState}


# preset name -> value (lower-case text, or a whole number as text) -> state (None: known, but
# not a state to report: nothing is sent)
PRESETS: dict[str, dict[str, MachineState | None]] = {
    "packml": _packml(),
    "contract": _contract(),
}


def state_key(value: object) -> str:
    """How a state value is looked up: whole numbers as digits, text stripped and lower-case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().lower()
