"""Instagram content publishing: containers, publishing, the publishing quota and insights."""
