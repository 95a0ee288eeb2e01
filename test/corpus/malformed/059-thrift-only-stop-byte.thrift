AA==
