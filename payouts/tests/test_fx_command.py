from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from affiliates.models import FxRate

pytestmark = pytest.mark.django_db


def test_load_fx_rates_loads_a_file_once(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(
        "base,quote,rate,valid_from\nEUR,USD,1.0850,2026-01-01\nGBP,USD,1.27,2026-01-01T12:00:00Z\n"
    )
    call_command("load_fx_rates", str(path))
    call_command("load_fx_rates", str(path))
    assert FxRate.objects.count() == 2
    assert FxRate.objects.get(base="EUR").rate == Decimal("1.085")


def test_load_fx_rates_reports_every_bad_line_and_loads_nothing(tmp_path, capsys):
    path = tmp_path / "rates.csv"
    path.write_text(
        "base,quote,rate,valid_from\nEUR,USD,1.08,2026-01-01\nZZZ,USD,1,2026-01-01\nEUR,USD,-2,soon\n"
    )
    with pytest.raises(CommandError):
        call_command("load_fx_rates", str(path))
    err = capsys.readouterr().err
    assert "line 3: unknown currency 'ZZZ'" in err
    assert "line 4: rate must be a positive decimal" in err
    assert "line 4: valid_from must be an ISO 8601 date or datetime" in err
    assert not FxRate.objects.exists()
