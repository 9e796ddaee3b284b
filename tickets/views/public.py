"""Public pages for citizens: the appeal form and the private status page."""
