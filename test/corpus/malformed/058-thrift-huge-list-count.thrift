DwFeC3////8A
