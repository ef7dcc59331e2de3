"""Machine models: the telemetry channels, cycle behaviour and failure figures of each kind.

Pure data. A channel's value moves towards a target that depends on the machine's state, with
a first-order lag (`tau_s`: hot parts warm up and cool down slowly, a spindle speed follows at
once) and Gaussian noise. `wear` makes a channel grow as a failure nears (vibration before a
bearing goes). Units are in the channel names (`_c`, `_kw`, `_mm_s`), as the gateway stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shopfloor.contract.payloads import MachineState

IDLE, SETUP, RUNNING, DOWN = (
    MachineState.IDLE,
    MachineState.SETUP,
    MachineState.RUNNING,
    MachineState.DOWN,
)


@dataclass(frozen=True)
class Channel:
    """One sensor: its target per state (IDLE when a state has none), lag, noise and wear."""

    name: str
    unit: str
    targets: dict[MachineState, float]
    noise: float = 0.0
    tau_s: float = 0.0
    # at failure the target is (1 + wear) times its normal value, rising over the warning window
    wear: float = 0.0
    minimum: float = 0.0
    digits: int = 2

    def target(self, state: MachineState) -> float:
        return self.targets.get(state, self.targets[IDLE])


@dataclass(frozen=True)
class Alarm:
    """An alarm a machine raises when it breaks down."""

    code: str
    message: str


@dataclass(frozen=True)
class MachineModel:
    """What a kind of machine measures, how steady its cycle is, how often it fails."""

    kind: str
    description: str
    channels: tuple[Channel, ...]
    alarms: tuple[Alarm, ...]
    cycle_cv: float = 0.03  # standard deviation of the cycle time over its mean
    scrap_rate: float = 0.01  # share of cycles that make a scrap part
    mtbf_s: float = 8 * 3600.0  # mean running time between failures
    mttr_s: float = 30 * 60.0  # mean time to repair (lognormal)
    counter_wrap: int = 65536  # the PLC's part counter goes back to 0 here
    # how long before a failure the wear channels start to rise
    warning_s: float = 30 * 60.0
    tags: dict[str, str] = field(default_factory=dict)


def _power(idle: float, setup: float, running: float, noise: float) -> Channel:
    return Channel(
        "power_kw", "kW", {IDLE: idle, SETUP: setup, RUNNING: running, DOWN: 0.1}, noise, digits=3
    )


def _vibration(idle: float, running: float, wear: float = 2.0) -> Channel:
    return Channel(
        "vibration_mm_s",
        "mm/s",
        {IDLE: idle, RUNNING: running, DOWN: 0.0},
        0.1 * running,
        tau_s=5.0,
        wear=wear,
        digits=3,
    )


CNC_MILL = MachineModel(
    "cnc_mill",
    "3-axis CNC machining centre",
    (
        Channel("spindle_temp_c", "°C", {IDLE: 24.0, RUNNING: 65.0}, 0.3, tau_s=600.0),
        Channel("spindle_speed_rpm", "rpm", {IDLE: 0.0, RUNNING: 12000.0}, 40.0, digits=0),
        Channel("spindle_load_pct", "%", {IDLE: 0.0, RUNNING: 55.0}, 3.0, digits=1),
        Channel("coolant_temp_c", "°C", {IDLE: 21.0, RUNNING: 28.0}, 0.2, tau_s=900.0),
        _vibration(0.3, 2.5),
        _power(0.4, 1.2, 7.5, 0.1),
    ),
    (Alarm("SP-301", "spindle bearing temperature high"), Alarm("TC-112", "tool breakage")),
    cycle_cv=0.03,
    scrap_rate=0.01,
    mtbf_s=10 * 3600.0,
    mttr_s=40 * 60.0,
)

LATHE = MachineModel(
    "lathe",
    "CNC turning centre",
    (
        Channel("spindle_temp_c", "°C", {IDLE: 23.0, RUNNING: 58.0}, 0.3, tau_s=500.0),
        Channel("spindle_speed_rpm", "rpm", {IDLE: 0.0, RUNNING: 2800.0}, 15.0, digits=0),
        Channel("chuck_pressure_bar", "bar", {IDLE: 0.0, SETUP: 35.0, RUNNING: 40.0}, 0.4),
        _vibration(0.2, 1.8),
        _power(0.3, 1.0, 11.0, 0.2),
    ),
    (Alarm("CH-210", "chuck pressure low"), Alarm("SP-305", "spindle drive fault")),
    cycle_cv=0.025,
    scrap_rate=0.008,
    mtbf_s=12 * 3600.0,
    mttr_s=35 * 60.0,
)

PRESS_BRAKE = MachineModel(
    "press_brake",
    "hydraulic press brake",
    (
        Channel("hydraulic_pressure_bar", "bar", {IDLE: 20.0, RUNNING: 180.0}, 3.0),
        Channel("oil_temp_c", "°C", {IDLE: 32.0, RUNNING: 52.0}, 0.2, tau_s=1200.0),
        Channel("ram_force_kn", "kN", {IDLE: 0.0, RUNNING: 800.0}, 25.0, digits=0),
        _vibration(0.5, 3.0, wear=1.5),
        _power(2.2, 2.5, 15.0, 0.3),
    ),
    (Alarm("HY-401", "hydraulic pressure loss"), Alarm("LC-017", "light curtain fault")),
    cycle_cv=0.05,
    scrap_rate=0.015,
    mtbf_s=16 * 3600.0,
    mttr_s=25 * 60.0,
)

WELDING_ROBOT = MachineModel(
    "welding_robot",
    "MIG/MAG welding robot cell",
    (
        Channel("weld_current_a", "A", {IDLE: 0.0, RUNNING: 220.0}, 6.0, digits=1),
        Channel("weld_voltage_v", "V", {IDLE: 0.0, RUNNING: 24.0}, 0.4, digits=2),
        Channel("wire_feed_m_min", "m/min", {IDLE: 0.0, RUNNING: 9.0}, 0.15),
        Channel("gas_flow_l_min", "l/min", {IDLE: 0.0, RUNNING: 15.0}, 0.3),
        Channel("torch_temp_c", "°C", {IDLE: 25.0, RUNNING: 70.0}, 0.5, tau_s=240.0),
        _vibration(0.1, 0.8, wear=3.0),
        _power(0.6, 0.8, 9.0, 0.3),
    ),
    (Alarm("WF-204", "wire feed blocked"), Alarm("GS-090", "shielding gas low")),
    cycle_cv=0.04,
    scrap_rate=0.02,
    mtbf_s=6 * 3600.0,
    mttr_s=30 * 60.0,
)

PAINT_LINE = MachineModel(
    "paint_line",
    "powder/wet paint line with curing oven",
    (
        Channel("booth_temp_c", "°C", {IDLE: 21.0, RUNNING: 23.0}, 0.2, tau_s=600.0),
        Channel("booth_humidity_pct", "%", {IDLE: 50.0, RUNNING: 55.0}, 1.0, tau_s=600.0),
        Channel("oven_temp_c", "°C", {IDLE: 60.0, SETUP: 180.0, RUNNING: 180.0}, 1.0, tau_s=1800),
        Channel("film_thickness_um", "µm", {IDLE: 0.0, RUNNING: 80.0}, 4.0, digits=1),
        Channel("conveyor_speed_m_min", "m/min", {IDLE: 0.0, RUNNING: 2.0}, 0.02, digits=3),
        _vibration(0.2, 0.9),
        _power(3.0, 25.0, 30.0, 0.5),
    ),
    (Alarm("OV-120", "oven burner flame-out"), Alarm("CV-033", "conveyor chain stalled")),
    cycle_cv=0.01,
    scrap_rate=0.03,
    mtbf_s=20 * 3600.0,
    mttr_s=60 * 60.0,
)

ASSEMBLY_QA = MachineModel(
    "assembly_qa",
    "manual assembly and final QA station",
    (
        Channel("screw_torque_nm", "N·m", {IDLE: 0.0, RUNNING: 25.0}, 0.5),
        Channel("air_pressure_bar", "bar", {IDLE: 6.2, RUNNING: 5.9}, 0.05),
        Channel("test_leak_rate_ml_min", "ml/min", {IDLE: 0.0, RUNNING: 0.8}, 0.1, digits=3),
        _power(0.3, 0.4, 1.5, 0.05),
    ),
    (Alarm("QA-501", "leak tester out of calibration"), Alarm("AS-044", "nutrunner fault")),
    cycle_cv=0.12,  # people vary more than machines
    scrap_rate=0.005,
    mtbf_s=40 * 3600.0,
    mttr_s=20 * 60.0,
)

MODELS: dict[str, MachineModel] = {
    m.kind: m for m in (CNC_MILL, LATHE, PRESS_BRAKE, WELDING_ROBOT, PAINT_LINE, ASSEMBLY_QA)
}
