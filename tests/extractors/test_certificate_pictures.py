"""The hand-made certificate pictures (tests/fixtures/certificates, drawn by its make.py as
the real ones are printed) OCR'd with the service's engine and read by the certificate
readers: the values a reviewer reads on the page, and no land area, unit number or
certificate number taken for something it is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.readers.institution import read_institution
from extractors.readers.property import read_property

PICTURES = Path(__file__).parents[1] / "fixtures" / "certificates"


def read(path: Path, settings, reader) -> dict[str, list]:
    from extractors.registry import parse_file

    (page,) = parse_file(path, settings.parse_options()).pages
    out: dict[str, list] = {}
    for v in reader(path.name, page, None):
        out.setdefault(v.field, []).append(v.value)
    return out


@pytest.mark.parametrize(
    ("picture", "reader", "expected"),
    [
        pytest.param("real_estate_certificate.png", read_property, {
            "premises.holder": ["西安秦创科技服务有限公司"],
            "premises.address": ["西安市高新区锦业路69号创业研发园C区1号楼5层501室"],
            "premises.area_m2": [865.32],  # 房屋建筑面积, not 共有宗地面积3000.00㎡
            "property.land_area_m2": [3000.0],
            "property.unit_number": ["610113001001GB00001F00010001"],
            "property.certificate_number": ["陕（2019）西安市不动产权第0012345号"],
            "property.use": ["工业用地/办公"],
            "property.term_end": ["2060-12-31"],
        }, id="不动产权证书"),
        pytest.param("ownership_certificate.png", read_property, {
            "premises.holder": ["西安秦创科技服务有限公司"],
            "premises.address": ["西安市碑林区南关正街88号长安国际中心A座1201室"],
            "premises.area_m2": [865.32],  # under 建筑面积（㎡）, not 套内 720.10
            "property.certificate_number": ["西安市房权证碑林区字第1100109012-3-1-1201号"],
            "property.use": ["办公"],
            "property.term_end": ["2055-04-30"],
        }, id="房屋所有权证"),
        pytest.param("institution_certificate.png", read_institution, {
            "applicant.name": ["西安市中小企业服务中心"],
            "applicant.credit_code": ["12610100MB2961807U"],
            "applicant.address": ["西安市雁塔区高新路25号"],
            "applicant.legal_representative": ["李华"],
            "institution.valid_until": ["2023-06-01"],
        }, id="事业单位法人证书"),
    ],
)  # fmt: skip
def test_a_certificate_picture_is_read(settings, picture, reader, expected):
    got = read(PICTURES / picture, settings, reader)
    assert got == expected
