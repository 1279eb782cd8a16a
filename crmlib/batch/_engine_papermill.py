"""The papermill engine of the batch runner: papermill's nbclient engine, saving less often.

papermill writes the executed notebook (validated by nbformat, with every image so far)
twice per cell, markdown cells included: about 120 writes for a notebook of 60 cells, a
second or more of CPU per notebook. :class:`BatchEngine` writes it when a code cell starts
(so a worker that dies leaves the notebook up to the cell it was running, which
:func:`crmlib.batch._worker.salvage` keeps), during a long cell as papermill's autosave
does, and at the end; not when a cell completes (the next code cell's start, or the end,
writes its outputs) nor for markdown cells.
"""

from __future__ import annotations

from typing import Any

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

__all__ = ["ENGINE_NAME", "BatchEngine"]

#: The name under which :class:`BatchEngine` is registered with papermill.
ENGINE_NAME = "crm-batch"


class _Manager(NotebookExecutionManager):  # type: ignore[misc]
    """papermill's execution manager, without the saves described in the module docstring."""

    _skip_save = False

    def save(self, **kwargs: Any) -> None:
        if not self._skip_save:
            super().save(**kwargs)

    def cell_start(self, cell: Any, cell_index: Any = None, **kwargs: Any) -> None:
        self._skip_save = cell.get("cell_type") != "code"
        try:
            super().cell_start(cell, cell_index, **kwargs)
        finally:
            self._skip_save = False

    def cell_complete(self, cell: Any, cell_index: Any = None, **kwargs: Any) -> None:
        self._skip_save = True
        try:
            super().cell_complete(cell, cell_index, **kwargs)
        finally:
            self._skip_save = False


class BatchEngine(NBClientEngine):  # type: ignore[misc]
    """papermill's ``nbclient`` engine with the manager of the module docstring.

    Examples
    --------
    >>> import papermill
    >>> from crmlib.batch._engine_papermill import ENGINE_NAME, BatchEngine
    >>> papermill.engines.papermill_engines.get_engine(ENGINE_NAME) is BatchEngine
    True
    """

    @classmethod
    def execute_notebook(cls, nb: Any, kernel_name: str, output_path: str | None = None,
                         progress_bar: bool = True, log_output: bool = False,
                         autosave_cell_every: int = 30, **kwargs: Any) -> Any:
        """papermill's ``Engine.execute_notebook`` with :class:`_Manager`."""
        nb_man = _Manager(nb, output_path=output_path, progress_bar=progress_bar,
                          log_output=log_output, autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


papermill_engines.register(ENGINE_NAME, BatchEngine)
