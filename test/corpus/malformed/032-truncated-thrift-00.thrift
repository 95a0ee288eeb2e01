Cw==
