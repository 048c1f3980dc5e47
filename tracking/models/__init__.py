from tracking.models.abtests import AbTest, AbVariant
from tracking.models.clicks import Click, Impression
from tracking.models.conversions import (
    CapCounter,
    Conversion,
    ConversionEvent,
    UnreconciledConversion,
    UsedPostbackSignature,
)
from tracking.models.holdouts import HoldoutArm, HoldoutTest
from tracking.models.journeys import (
    AttributionCube,
    AttributionDay,
    Journey,
    JourneyRun,
    ParticipationDay,
    Touch,
)
from tracking.models.policy import FrequencyCap, ListEntry, NamingTemplate
from tracking.models.reports import (  # noqa: F401
    DailyGeoStat,
    DailyOfferStat,
    DailyStat,
    HourlyGeoStat,
    HourlyOfferStat,
    HourlySourceStat,
    HourlyStat,
    ReportDirtyHour,
    ReportState,
)
from tracking.models.smartlinks import SmartLink, SmartPath, SmartPathDaily, SmartRun

__all__ = [
    "AbTest",
    "AbVariant",
    "AttributionCube",
    "AttributionDay",
    "CapCounter",
    "Click",
    "Conversion",
    "ConversionEvent",
    "FrequencyCap",
    "HoldoutArm",
    "HoldoutTest",
    "Impression",
    "Journey",
    "JourneyRun",
    "ListEntry",
    "NamingTemplate",
    "ParticipationDay",
    "SmartLink",
    "SmartPath",
    "SmartPathDaily",
    "SmartRun",
    "Touch",
    "UnreconciledConversion",
    "UsedPostbackSignature",
]
