from tracking.models.abtests import AbTest, AbVariant
from tracking.models.clicks import Click, Impression
from tracking.models.conversions import (
    CapCounter,
    Conversion,
    ConversionEvent,
    UnreconciledConversion,
    UsedPostbackSignature,
)
from tracking.models.reports import (  # noqa: F401
    DailyGeoStat,
    DailyOfferStat,
    DailyStat,
    HourlyGeoStat,
    HourlyOfferStat,
    HourlyStat,
    OfferTarget,
    ReportDirtyHour,
    ReportState,
)
from tracking.models.smartlinks import SmartLink, SmartPath, SmartPathDaily, SmartRun

__all__ = [
    "AbTest",
    "AbVariant",
    "CapCounter",
    "Click",
    "Conversion",
    "ConversionEvent",
    "Impression",
    "SmartLink",
    "SmartPath",
    "SmartPathDaily",
    "SmartRun",
    "UnreconciledConversion",
    "UsedPostbackSignature",
]
