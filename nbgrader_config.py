"""nbgrader configuration of the course (read by every ``nbgrader`` command run here).

The repository is the nbgrader course folder. The masters are the chapters' exercise
notebooks, ``chapters/<chapter>/exercises.ipynb``: each chapter folder is an nbgrader
assignment named after it (``01_cross_entropy``, ...). Everything nbgrader writes goes
under ``grading/`` (git-ignored)::

    grading/release/<chapter>/exercises.ipynb            nbgrader generate_assignment
    grading/submitted/<student>/<chapter>/exercises.ipynb   nbgrader collect (or by hand)
    grading/autograded/<student>/<chapter>/              nbgrader autograde
    grading/feedback/<student>/<chapter>/exercises.html  nbgrader generate_feedback
    grading/gradebook.db                                 the gradebook (manual grades too)

``tools/grade.py`` (``make grade``) reads this file and uses the same settings.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

HERE = os.path.dirname(os.path.abspath(__file__))
GRADING = os.path.join(HERE, "grading")
os.makedirs(GRADING, exist_ok=True)  # SQLite creates the gradebook, not its folder

c.CourseDirectory.course_id = "cross-entropy"
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = "chapters"
c.CourseDirectory.notebook_id = "exercises"  # lesson.ipynb is not an assignment
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "mistakes.yml"]  # the catalogue of wrong answers stays home
c.CourseDirectory.release_directory = os.path.join(GRADING, "release")
c.CourseDirectory.submitted_directory = os.path.join(GRADING, "submitted")
c.CourseDirectory.autograded_directory = os.path.join(GRADING, "autograded")
c.CourseDirectory.feedback_directory = os.path.join(GRADING, "feedback")
# timeout: seconds SQLite waits for a lock (parallel autograding shares the file)
c.CourseDirectory.db_url = f"sqlite:///{os.path.join(GRADING, 'gradebook.db')}?timeout=60"

# generate_assignment enters a new chapter into the gradebook by itself
c.GenerateAssignment.create_assignment = True
# a test cell the student deleted is put back from the gradebook and run
c.OverwriteCells.add_missing_cells = True
# seconds one cell may run; a cell that loops is interrupted, its test cells still run
c.Execute.timeout = 5
c.Execute.interrupt_on_timeout = True
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:",
                            "--IPKernelApp.log_level=ERROR"]
# the notebook is done when its last cell is: stop the kernel without waiting on it
c.Execute.shutdown_kernel = "immediate"
