"""data.files.checked_file: a shipped file is used only when its bytes are the recorded ones."""

import pytest

from deepglossary.data.files import checked_file, sha256


def test_the_recorded_file_passes_and_a_changed_or_missing_one_is_refused(tmp_path):
    good = tmp_path / "weights.npz"
    good.write_bytes(b"the shipped bytes")
    digest = sha256(good)
    assert checked_file(None, good, digest) == good
    good.write_bytes(b"the shipped bytes, altered")
    with pytest.raises(ValueError, match="damaged or altered; reinstall the package or rerun "
                                         "scripts/train_x.py"):
        checked_file(None, good, digest, made_by="scripts/train_x.py")
    assert checked_file(good, None, "unused", sha256(good)) == good   # another file, its hash
    with pytest.raises(FileNotFoundError, match="missing"):
        checked_file(tmp_path / "gone.npz", good, digest)
