"""Charts drawn on the server as SVG: no chart service or CDN, readable printed in black and
white (series differ by fill pattern and dash, not by colour alone), every axis labelled with
its unit."""
