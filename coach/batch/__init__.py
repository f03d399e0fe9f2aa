"""Batch scoring of uploaded practice videos: resumable, reported, and scaled out.

    from coach.batch import BatchOptions, run_batch

    summary = run_batch(BatchOptions(["uploads/"], exercise="auto", out_dir=Path("out"),
                                     workers=2, stride=1))
    print(summary.failed, summary.csv_path, summary.html_path)

Pieces, one concept per module: ``discover`` (files, folders, globs -> inputs), ``jobs``
(content-hash keys), ``references`` (the library's exercises packed for workers), ``worker``
(one pose backend per process; extraction and scoring), ``render`` (thumbnails with the
skeleton, annotated video), ``engines`` (process pool, Ray), ``store`` (atomic per-input
results), ``report`` (CSV and HTML), ``runner`` (the whole batch).
"""

from coach.batch.runner import BatchOptions, BatchSummary, run_batch

__all__ = ["BatchOptions", "BatchSummary", "run_batch"]
