"""The gazetteer behind 12.registered_locally: every district, county and development zone
of Xi'an, with and without 陕西省/西安市 in front; look-alikes elsewhere (西安路 in 大连市,
长安区 in 石家庄市, 曲江区 in 韶关市); and addresses that cannot tell (a street alone)."""

from __future__ import annotations

import sys
import tomllib
from importlib import resources

import pytest

from validators import region
from validators.packs import available_packs, load_pack
from validators.region import How, in_city, in_province, locate

XIAN = "西安市"

# Every county-level division of Xi'an. 新城区 and 长安区 have namesakes elsewhere
# (呼和浩特市新城区, 石家庄市长安区): alone they cannot tell.
DISTRICTS = {
    "新城区": None, "碑林区": True, "莲湖区": True, "灞桥区": True, "未央区": True,
    "雁塔区": True, "阎良区": True, "临潼区": True, "长安区": None, "高陵区": True,
    "鄠邑区": True, "蓝田县": True, "周至县": True,
}  # fmt: skip

# The development zones and new areas as addresses write them, without 西安市.
ZONES = [
    "西安高新区", "西安高新技术产业开发区", "西安经济技术开发区", "西安经开区",
    "曲江新区", "西安曲江新区", "浐灞生态区", "西安浐灞生态区", "浐灞国际港",
    "西安国际港务区", "西安航天基地", "西安国家民用航天产业基地", "陕西航天经济技术开发区",
    "西安航空基地", "西安阎良国家航空高技术产业基地", "陕西航空经济技术开发区",
    "西咸新区", "西咸新区沣东新城", "沣东新城", "沣西新城", "秦汉新城", "泾河新城",
    "西咸新区空港新城", "西咸新区泾河新城", "西安综合保税区",
]  # fmt: skip

# Names every other city's zones share: alone they decide nothing.
GENERIC = ["高新区", "经开区", "经济技术开发区", "航天基地", "航空基地", "国际港务区", "空港新城"]

STREET = "科技路48号"


@pytest.mark.parametrize("district", sorted(DISTRICTS))
@pytest.mark.parametrize("prefix", ["陕西省西安市", "西安市", "陕西西安", "陕西省"])
def test_every_district_with_a_prefix_is_in_xian(district, prefix):
    assert in_city(f"{prefix}{district}{STREET}", XIAN) is True


@pytest.mark.parametrize(("district", "want"), sorted(DISTRICTS.items()))
def test_every_district_alone(district, want):
    assert in_city(f"{district}{STREET}", XIAN) is want


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("prefix", ["", "陕西省", "西安市", "陕西省西安市"])
def test_every_zone_is_in_xian(zone, prefix):
    address = f"{prefix}{zone}创新大道1号"
    assert in_city(address, XIAN) is True
    assert locate(address).province == "陕西省"


def test_every_alias_in_the_zone_data_is_in_its_city():
    data = tomllib.loads(resources.files("validators").joinpath("data/zones.toml").read_text())
    for city in data["city"]:
        for zone in city["zone"]:
            for alias in zone["aliases"]:
                place = locate(f"{alias}1号")
                assert (place.city, place.how) == (city["name"], How.ZONE), alias


@pytest.mark.parametrize("generic", GENERIC)
def test_a_generic_zone_name_alone_cannot_tell(generic):
    assert in_city(f"{generic}{STREET}", XIAN) is None
    assert in_city(f"西安市{generic}{STREET}", XIAN) is True
    assert in_city(f"宝鸡市{generic}{STREET}", XIAN) is False


@pytest.mark.parametrize(
    ("address", "want"),
    [
        ("户县余下街道", True),  # 鄠邑区's name before 2016
        ("陕西省户县沣京工业园", True),
        ("高陵县泾河工业园", True),
        ("长安区郭杜街道", True),  # the township tells which 长安区
        ("新城区中山门街道", True),  # of the two 新城区, only Xi'an's has a 中山门街道
        ("国际港务区新筑街道", True),  # 新筑街道 is only in 灞桥区
        ("郭杜街道", True),
        ("陕西省咸阳市西咸新区秦汉新城天工二路", True),  # 西咸新区 lies in both cities
        ("咸阳市沣西新城开元路", True),
        ("陕西省西安市高新区锦业路1号", True),
        ("西安高新区锦业路1号", True),
        ("西安经济技术开发区凤城八路", True),
        ("陕西省西安经济技术开发区草滩生态产业园尚稷路", True),
    ],
)
def test_written_without_xian(address, want):
    assert in_city(address, XIAN) is want


@pytest.mark.parametrize(
    "address",
    [
        "辽宁省大连市沙河口区西安路88号",
        "大连市西安路123号",
        "河北省石家庄市长安区中山东路",
        "石家庄市长安区广安街",
        "上海市长宁区西安路5号",
        "吉林省辽源市西安区仙城大街",
        "黑龙江省牡丹江市西安区",
        "哈尔滨市南岗区西安街",
        "北京市东城区东长安街1号",
        "内蒙古自治区呼和浩特市新城区",
        "广东省韶关市曲江区马坝镇",
        "曲江区马坝镇",  # 曲江区 is only 韶关's; 曲江新区 is Xi'an's
        "陕西省咸阳市秦都区人民路1号",
        "咸阳市渭城区文汇东路265号",
        "杨凌示范区新桥路",
        "宝鸡市渭滨区经二路",
        "成都高新区天府大道",
        "苏州工业园区星湖街",
        "广东省",  # a province alone is enough when it is another
    ],
)
def test_look_alikes_elsewhere(address):
    assert in_city(address, XIAN) is False


@pytest.mark.parametrize(
    "address",
    [
        "科技路48号",
        "锦业路1号",
        "人民路100号3楼",
        "长安街1号",
        "北京长安街1号",  # 北京 before a street, as 西安 in 西安路
        "西安路1号",  # a street named after the city is not the city
        "长安区中山东路",
        "新城区解放路",
        "陕西省",  # the province, but which city
        "",
        "宝鸡市曲江新区",  # a zone of one city in another: contradictory
        "西安市雁塔区（咸阳市秦都区）",
    ],
)
def test_cannot_tell(address):
    assert in_city(address, XIAN) is None


def test_place_says_how_and_why():
    named = locate("陕西省西安市雁塔区科技路48号")
    assert (named.province, named.city, named.district, named.how) == (
        "陕西省",
        XIAN,
        "雁塔区",
        How.NAMED,
    )
    assert named.confidence == 1.0
    zone = locate("陕西省西咸新区沣东新城协同创新港")
    assert (zone.city, zone.zone, zone.how) == (XIAN, "西咸新区沣东新城", How.ZONE)
    assert "西咸新区" in zone.reason
    old = locate("户县余下街道")
    assert (old.district, old.how) == ("鄠邑区", How.OLD_NAME)
    unsure = locate("长安区中山东路")
    assert unsure.how == How.AMBIGUOUS and unsure.city is None
    assert "石家庄市" in unsure.reason and XIAN in unsure.reason
    assert locate("锦业路1号").how == How.NOTHING
    assert locate("沣东新城").how == How.ZONE


def test_full_width_and_spaces():
    assert in_city("西安市 雁塔区 科技路４８号", XIAN) is True
    assert in_city("陕西省 西安市", XIAN) is True


def test_provinces():
    assert in_province("江苏省苏州市工业园区星湖街", "江苏省") is True
    assert in_province("苏州工业园区星湖街", "江苏省") is True
    assert in_province("南京市鼓楼区中山路1号", "江苏省") is True
    assert in_province("广州市天河区体育西路1号", "江苏省") is False
    assert in_province("南京路1号", "江苏省") is None
    assert in_province("西安高新区锦业路1号", "陕西省") is True
    with pytest.raises(ValueError):
        in_province("南京市", "江苏")


def test_an_unknown_city_is_an_error():
    with pytest.raises(ValueError):
        in_city("西安市雁塔区", "西安")


def test_jionlp_is_read_not_imported(capsys):
    """Importing jionlp prints a banner and unzips into its package folder."""
    locate("西安市雁塔区")
    assert "jionlp" not in sys.modules
    assert capsys.readouterr().out == ""


def test_without_jionlp_the_error_says_so(monkeypatch):
    monkeypatch.setattr(region, "find_spec", lambda name: None)
    with pytest.raises(region.GazetteerError, match="jionlp"):
        region._location_text()


@pytest.mark.parametrize("name", available_packs())
def test_every_pack_names_a_place_the_gazetteer_knows(name):
    (criterion,) = [c for c in load_pack(name).criteria if c.id == "12.registered_locally"]
    params = criterion.params
    if "city" in params:
        assert region.gazetteer().city(params["city"]).name == params["city"]
    if "province" in params:
        assert params["province"] in region.gazetteer().provinces
