"""Herald scheduler: the post lifecycle: submit, schedule, dispatch, record results."""
