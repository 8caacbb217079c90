"""The one table of dataset files: what the data assets and their contract checks are built from."""

import pytest

from numerai_assets.core.data.contracts import CHECKS_BY_KIND
from numerai_assets.core.data.files import DATASET_FILES, DatasetFileSpec, contracted_files


def test_every_file_has_its_own_asset_and_a_known_contract_kind():
    assert len({s.asset for s in DATASET_FILES}) == len({s.filename for s in DATASET_FILES}) == len(DATASET_FILES)
    assert all(s.contract in CHECKS_BY_KIND for s in contracted_files())
    assert [s.filename for s in DATASET_FILES if s.contract is None] == ["features.json"]  # no contract for json


def test_a_misspelled_contract_kind_fails_naming_file_asset_and_kinds():
    with pytest.raises(ValueError, match=r"x.parquet \(asset x_data\): unknown contract kind 'trian'.*'train'"):
        DatasetFileSpec("x_data", "x.parquet", "a file", "trian")
