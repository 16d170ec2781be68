"""Plan: a visit and an instruction set become concrete moments on the site's clock."""
