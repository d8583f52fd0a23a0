from __future__ import annotations

import zipfile

import pytest

from extractors.archive import ArchiveLimits, expand_zip, member_name, safe_name
from extractors.errors import ArchiveTooLargeError, TooManyMembersError, UnsafeArchiveError
from tests.fixtures import factory


def test_expands_members_in_order(tmp_path):
    archive = factory.zip_of(
        tmp_path / "a.zip",
        {
            "申报/报告.txt": b"a",
            "申报/许可证.txt": b"b",
            "__MACOSX/._x": b"junk",
            ".DS_Store": b"x",
        },
    )
    members = expand_zip(archive, tmp_path / "out")
    assert [m.name for m in members] == ["申报/报告.txt", "申报/许可证.txt"]
    assert members[0].path.read_bytes() == b"a"


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "/etc/passwd", "C:/x.txt"])
def test_path_escapes_are_refused(tmp_path, name):
    archive = factory.zip_of(tmp_path / "a.zip", {name: b"x"})
    with pytest.raises(UnsafeArchiveError):
        expand_zip(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_zip_bomb_is_refused_while_reading(tmp_path):
    archive = factory.zip_of(tmp_path / "bomb.zip", {"zeros.bin": bytes(50 << 20)})
    with pytest.raises(UnsafeArchiveError):
        expand_zip(
            archive, tmp_path / "out", ArchiveLimits(max_ratio=10_000, max_total_bytes=10 << 20)
        )


def test_too_many_members(tmp_path):
    archive = factory.zip_of(tmp_path / "many.zip", {f"{i}.txt": b"x" for i in range(20)})
    with pytest.raises(UnsafeArchiveError):
        expand_zip(archive, tmp_path / "out", ArchiveLimits(max_members=10))


def test_the_limits_that_a_whole_upload_counts_have_their_own_errors(tmp_path):
    # A caller counting a whole upload (intake.dossiers.Admission) refuses the upload on
    # these; they are still unsafe archives to anyone else.
    many = factory.zip_of(tmp_path / "many.zip", {f"{i}.txt": b"x" for i in range(20)})
    with pytest.raises(TooManyMembersError):
        expand_zip(many, tmp_path / "out", ArchiveLimits(max_members=10))
    assert not (tmp_path / "out").exists()  # refused from the directory, nothing written
    big = factory.stored_zip(tmp_path / "big.zip", {f"{i}.bin": bytes(1000) for i in range(5)})
    with pytest.raises(ArchiveTooLargeError):
        expand_zip(big, tmp_path / "out2", ArchiveLimits(max_total_bytes=2500))


def test_windows_gbk_names_are_decoded():
    info = zipfile.ZipInfo("审计报告.pdf".encode("gbk").decode("cp437"))
    info.flag_bits = 0
    assert member_name(info) == "审计报告.pdf"


def test_safe_name_normalises():
    assert safe_name("a\\b/./c.pdf") == "a/b/c.pdf"
    assert safe_name("..") is None
