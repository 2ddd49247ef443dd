"""The checks of what the stages made: lint (the manuscript), proof (clreq on the PDF), preflight (the print
shop's), engines (five renderers), fonts, and the stores' validators."""
