"""The Qt binding must not corrupt the interpreter (PySide6 6.12.0 dropped a reference to None
on every None -> QVariant conversion; after a few thousand table/chart redraws the app aborted
with "none_dealloc"). pyproject excludes that release; this test catches any binding that regresses."""
import subprocess
import sys

CODE = r'''
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QApplication
app = QApplication([])
class M(QAbstractTableModel):
    def rowCount(self, p=QModelIndex()): return 4
    def columnCount(self, p=QModelIndex()): return 4
    def data(self, i, r=Qt.ItemDataRole.DisplayRole): return None
m = M()
before = sys.getrefcount(None)
for k in range(5000):
    m.index(k % 4, k % 4).data()
print(sys.getrefcount(None) - before)
'''


def test_none_to_qvariant_keeps_refcount():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"Qt binding aborted the interpreter: {r.stderr[-500:]}"
    assert abs(int(r.stdout.strip().splitlines()[-1])) < 100
