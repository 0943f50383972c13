"""Letters as PDF: the rendered letter template laid out under a letterhead, with the font embedded."""
