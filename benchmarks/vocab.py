"""Word lists for the synthetic news corpus: real words, most frequent first in each list.

Everything here is data.  Order matters: the generator gives rank r a Zipf weight, so the
first words of each list are the most frequent, as in real text.
"""

# Multilingual word lists are the point here: accented letters are intended.

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "es", "de", "fr")
# Share of articles per language (a European/Latin-American news mix).
LANGUAGE_WEIGHTS: Final = (0.5, 0.22, 0.16, 0.12)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Function words and everyday news vocabulary, roughly in frequency order.
GENERAL: Final[dict[str, tuple[str, ...]]] = {
    "en": _words(
        """the of and to a in that is for on it with was as he said by at be from his an
        have has are not but this they which who were their had or will would been its more
        we she there all one about after also up than out new when can over into her other
        only year some two could what them first if last no people so government like just
        time because before while three years week percent million told against between
        during under since where most state country minister president officials according
        public police city national party money report companies company market workers
        group former local support plan plans security children billion including could
        still next month months day days official spokesman statement announced expected
        around should however major recent several rise fell increase decision agreement
        talks deal crisis leaders leader members law court case investigation budget tax
        bank prices price growth sector industry jobs families house home news media
        statement region regional federal European international foreign domestic social
        political economic financial official likely despite already later earlier almost
        another both each every many much such those these through without within among
        across toward until often never again ever always perhaps whether though although
        meeting vote votes voters campaign office chief executive director board agency
        data study research analysts experts critics residents authorities government's
        officials' country's called says say added noted warned argued insisted confirmed
        denied claimed reported suggested described showed remained became began continued
        called asked wanted needed tried helped allowed expected planned promised refused
        street town village north south east west capital border coast area areas district"""
    ),
    "es": _words(
        """de la que el en y a los del se las por un para con no una su al lo como más pero
        sus le ya o fue este ha sí porque esta son entre cuando muy sin sobre también me
        hasta hay donde quien desde todo nos durante todos uno les ni contra otros ese eso
        ante ellos e esto antes algunos unos otro otras otra tanto esa estos mucho quienes
        nada muchos cual poco ella estar estas algunas algo según después año años así
        aunque dijo país gobierno presidente ministro parte millones dos tres días semana
        mes meses tiempo nuevo nueva nuevos primera primer último última ciudad estado
        política político económica económico social nacional internacional público
        pública empresa empresas mercado trabajadores familias personas gente niños mujeres
        hombres policía tribunal ley leyes informe datos cifras crecimiento precio precios
        acuerdo crisis reunión votación campaña partido partidos oposición congreso senado
        región comunidad autoridades expertos fuentes portavoz declaró afirmó señaló
        aseguró explicó añadió indicó advirtió anunció confirmó negó reconoció podría
        debería tienen tenía había habían será serían están estaba hacer hecho dicho
        mientras además incluso sólo solo cada todas misma mismo otros pasado próximo
        próxima frente través hacia mayor menor mejor peor gran grandes alto alta bajo
        situación decisión medidas medida proyecto plan sistema servicio servicios calle
        barrio zona norte sur este oeste capital frontera costa millón mil euros dólares"""
    ),
    "de": _words(
        """der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als
        auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie
        einem über einen so zum war haben nur oder aber vor zur bis mehr durch man sein
        wurde sei Prozent hatte kann gegen vom können schon wenn habe seine ihre ihr neue
        neuen Jahr Jahren Jahre Millionen Milliarden Euro Regierung Minister Ministerin
        Präsident Kanzler Partei Parteien Bundesregierung Land Länder Stadt Städte Menschen
        Kinder Frauen Männer Unternehmen Firma Markt Preise Wirtschaft Arbeit Arbeitnehmer
        Polizei Gericht Gesetz Bericht Zahlen Daten Wochen Woche Monat Monaten Tag Tagen
        sagte erklärte betonte kündigte sagten teilte mit forderte warnte kritisierte
        bestätigte wies zurück laut nach Angaben zufolge bereits jedoch allerdings zudem
        außerdem sowie damit dabei dafür davon deshalb trotz während seit ohne unter zwischen
        gegenüber etwa rund fast knapp weitere weiteren ersten letzten nächsten großen
        großer neue hohe hohen deutschen deutsche europäischen politischen wirtschaftlichen
        sozialen öffentlichen Entscheidung Verhandlungen Einigung Krise Treffen Sitzung
        Wahl Wahlen Wähler Umfrage Opposition Koalition Abgeordnete Sprecher Sprecherin
        Experten Kritiker Behörden Bürger Straße Straßen Region Norden Süden Osten Westen
        Hauptstadt Grenze Küste Gemeinde Bezirk müssen soll sollen muss will wollen würde
        könnte dürfte wäre hätte worden gewesen gibt geben gab steht stehen stand geht"""
    ),
    "fr": _words(
        """de la le et les des en un du une que est pour qui dans a par plus pas au sur ne
        se il sont ce avec mais ont été aux ou son elle sa ses leur leurs nous cette après
        même très déjà où entre selon ans année années deux trois jours semaine mois
        temps nouveau nouvelle nouveaux premier première dernier dernière ville pays
        gouvernement président ministre ministère parti partis opposition assemblée
        sénat région commune autorités experts porte-parole a-t-il a-t-elle affirmé déclaré
        souligné expliqué ajouté indiqué annoncé confirmé estimé averti reconnu pourrait
        devrait doit peut sont était avait avaient sera seront fait faire dit mis pris
        alors ainsi aussi encore toujours jamais depuis pendant avant contre sans sous vers
        chez tout tous toute toutes chaque plusieurs certains autres autre grand grande
        grands haut bas politique économique sociale social national nationale
        internationale public publique entreprise entreprises marché travailleurs salariés
        familles personnes enfants femmes hommes police tribunal justice loi lois rapport
        chiffres données croissance prix accord crise réunion vote élection élections
        campagne candidat candidats sondage millions milliards euros d'une d'un l'an
        qu'il qu'elle n'est l'État l'année l'ensemble d'autres aujourd'hui jusqu'à
        mesure mesures projet plan système service services rue quartier nord sud est ouest
        capitale frontière côte situation décision début fin cours face lors afin"""
    ),
}

# Topical concepts, grouped by theme, each written in every language (en, es, de, fr).
# A concept's first form in each language is the one the articles use most.
THEMES: Final[dict[str, tuple[tuple[str, str, str, str], ...]]] = {
    "economy": (
        ("inflation", "inflación", "Inflation", "inflation"),
        ("interest rates", "tipos de interés", "Leitzins", "taux d'intérêt"),
        ("recession", "recesión", "Rezession", "récession"),
        ("unemployment", "desempleo", "Arbeitslosigkeit", "chômage"),
        ("central bank", "banco central", "Zentralbank", "banque centrale"),
        ("stock market", "bolsa", "Börse", "Bourse"),
        ("public debt", "deuda pública", "Staatsschulden", "dette publique"),
        ("minimum wage", "salario mínimo", "Mindestlohn", "salaire minimum"),
        ("pensions", "pensiones", "Renten", "retraites"),
        ("tariffs", "aranceles", "Zölle", "droits de douane"),
    ),
    "energy": (
        ("climate change", "cambio climático", "Klimawandel", "changement climatique"),
        ("emissions", "emisiones", "Emissionen", "émissions"),
        (
            "renewable energy",
            "energías renovables",
            "erneuerbare Energien",
            "énergies renouvelables",
        ),
        ("natural gas", "gas natural", "Erdgas", "gaz naturel"),
        ("electricity prices", "precio de la luz", "Strompreise", "prix de l'électricité"),
        ("heatwave", "ola de calor", "Hitzewelle", "canicule"),
        ("drought", "sequía", "Dürre", "sécheresse"),
        ("nuclear power", "energía nuclear", "Atomkraft", "nucléaire"),
        ("wildfires", "incendios forestales", "Waldbrände", "incendies"),
        ("floods", "inundaciones", "Überschwemmungen", "inondations"),
    ),
    "health": (
        ("covid-19", "covid-19", "Covid-19", "covid-19"),
        ("vaccine", "vacuna", "Impfstoff", "vaccin"),
        ("hospital", "hospital", "Krankenhaus", "hôpital"),
        ("doctors", "médicos", "Ärzte", "médecins"),
        ("cancer", "cáncer", "Krebs", "cancer"),
        ("public health", "salud pública", "Gesundheitswesen", "santé publique"),
        ("pandemic", "pandemia", "Pandemie", "pandémie"),
        ("bird flu", "gripe aviar", "Vogelgrippe", "grippe aviaire"),
        ("mental health", "salud mental", "psychische Gesundheit", "santé mentale"),
    ),
    "tech": (
        (
            "artificial intelligence",
            "inteligencia artificial",
            "künstliche Intelligenz",
            "intelligence artificielle",
        ),
        ("chatbot", "chatbot", "Chatbot", "chatbot"),
        ("semiconductors", "semiconductores", "Halbleiter", "semi-conducteurs"),
        ("cyberattack", "ciberataque", "Cyberangriff", "cyberattaque"),
        ("data protection", "protección de datos", "Datenschutz", "protection des données"),
        ("social media", "redes sociales", "soziale Medien", "réseaux sociaux"),
        ("e-mail", "correo electrónico", "E-Mail", "e-mail"),
        ("smartphone", "teléfono móvil", "Smartphone", "smartphone"),
        ("electric cars", "coches eléctricos", "Elektroautos", "voitures électriques"),
    ),
    "politics": (
        ("elections", "elecciones", "Wahlen", "élections"),
        ("parliament", "parlamento", "Parlament", "parlement"),
        ("coalition", "coalición", "Koalition", "coalition"),
        ("referendum", "referéndum", "Volksabstimmung", "référendum"),
        ("constitution", "constitución", "Verfassung", "constitution"),
        ("no-confidence vote", "moción de censura", "Misstrauensvotum", "motion de censure"),
        ("corruption", "corrupción", "Korruption", "corruption"),
        ("far right", "ultraderecha", "Rechtsextremismus", "extrême droite"),
        ("polls", "encuestas", "Umfragen", "sondages"),
    ),
    "conflict": (
        ("ceasefire", "alto el fuego", "Waffenruhe", "cessez-le-feu"),
        ("sanctions", "sanciones", "Sanktionen", "sanctions"),
        ("missile", "misil", "Rakete", "missile"),
        ("drones", "drones", "Drohnen", "drones"),
        ("refugees", "refugiados", "Flüchtlinge", "réfugiés"),
        ("peace talks", "negociaciones de paz", "Friedensverhandlungen", "pourparlers de paix"),
        ("troops", "tropas", "Truppen", "troupes"),
        ("humanitarian aid", "ayuda humanitaria", "humanitäre Hilfe", "aide humanitaire"),
    ),
    "justice": (
        ("supreme court", "Tribunal Supremo", "Bundesgerichtshof", "Cour de cassation"),
        ("trial", "juicio", "Prozess", "procès"),
        ("prosecutor", "fiscal", "Staatsanwaltschaft", "parquet"),
        ("arrest", "detención", "Festnahme", "interpellation"),
        ("fraud", "fraude", "Betrug", "fraude"),
        ("money laundering", "blanqueo de capitales", "Geldwäsche", "blanchiment d'argent"),
        ("prison", "prisión", "Gefängnis", "prison"),
        ("verdict", "sentencia", "Urteil", "verdict"),
    ),
    "migration": (
        ("migrants", "migrantes", "Migranten", "migrants"),
        ("asylum", "asilo", "Asyl", "asile"),
        ("deportation", "deportación", "Abschiebung", "expulsion"),
        ("border controls", "controles fronterizos", "Grenzkontrollen", "contrôles aux frontières"),
        ("shipwreck", "naufragio", "Schiffsunglück", "naufrage"),
        ("residence permit", "permiso de residencia", "Aufenthaltserlaubnis", "titre de séjour"),
    ),
    "sport": (
        ("Champions League", "Liga de Campeones", "Champions League", "Ligue des champions"),
        ("World Cup", "Mundial", "Weltmeisterschaft", "Coupe du monde"),
        ("transfer", "fichaje", "Transfer", "transfert"),
        ("Olympic Games", "Juegos Olímpicos", "Olympische Spiele", "Jeux olympiques"),
        ("doping", "dopaje", "Doping", "dopage"),
        ("coach", "entrenador", "Trainer", "entraîneur"),
        ("Grand Slam", "Grand Slam", "Grand Slam", "Grand Chelem"),
    ),
    "culture": (
        ("film festival", "festival de cine", "Filmfestival", "festival de cinéma"),
        ("exhibition", "exposición", "Ausstellung", "exposition"),
        ("novel", "novela", "Roman", "roman"),
        ("museum", "museo", "Museum", "musée"),
        ("concert", "concierto", "Konzert", "concert"),
        ("streaming", "streaming", "Streaming", "streaming"),
    ),
}
# Share of articles per theme, most frequent first (the order above).
THEME_WEIGHTS: Final = (0.18, 0.1, 0.08, 0.1, 0.22, 0.12, 0.07, 0.04, 0.06, 0.03)

# Named entities: (full form, short form used on later mentions, theme, home language or "").
ENTITIES: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("Nicolás Maduro", "Maduro", "politics", "es"),
    ("Pedro Sánchez", "Sánchez", "politics", "es"),
    ("Isabel Díaz Ayuso", "Ayuso", "politics", "es"),
    ("Alberto Núñez Feijóo", "Feijóo", "politics", "es"),
    ("Yolanda Díaz", "Yolanda Díaz", "economy", "es"),
    ("Carles Puigdemont", "Puigdemont", "justice", "es"),
    ("Santiago Abascal", "Abascal", "politics", "es"),
    ("Javier Milei", "Milei", "economy", "es"),
    ("Gustavo Petro", "Petro", "politics", "es"),
    ("Claudia Sheinbaum", "Sheinbaum", "politics", "es"),
    ("Andrés Manuel López Obrador", "López Obrador", "politics", "es"),
    ("Gabriel Boric", "Boric", "politics", "es"),
    ("Luiz Inácio Lula da Silva", "Lula", "politics", "es"),
    ("Emmanuel Macron", "Macron", "politics", "fr"),
    ("Marine Le Pen", "Le Pen", "politics", "fr"),
    ("Jean-Luc Mélenchon", "Mélenchon", "politics", "fr"),
    ("Jordan Bardella", "Bardella", "politics", "fr"),
    ("Michel Barnier", "Barnier", "politics", "fr"),
    ("Gabriel Attal", "Attal", "politics", "fr"),
    ("Christine Lagarde", "Lagarde", "economy", "fr"),
    ("Olaf Scholz", "Scholz", "politics", "de"),
    ("Friedrich Merz", "Merz", "politics", "de"),
    ("Annalena Baerbock", "Baerbock", "conflict", "de"),
    ("Robert Habeck", "Habeck", "energy", "de"),
    ("Christian Lindner", "Lindner", "economy", "de"),
    ("Markus Söder", "Söder", "politics", "de"),
    ("Alice Weidel", "Weidel", "politics", "de"),
    ("Ursula von der Leyen", "von der Leyen", "politics", ""),
    ("Joe Biden", "Biden", "politics", "en"),
    ("Donald Trump", "Trump", "politics", "en"),
    ("Kamala Harris", "Harris", "politics", "en"),
    ("Alexandria Ocasio-Cortez", "Ocasio-Cortez", "politics", "en"),
    ("Jerome Powell", "Powell", "economy", "en"),
    ("Keir Starmer", "Starmer", "politics", "en"),
    ("Rishi Sunak", "Sunak", "politics", "en"),
    ("Volodymyr Zelensky", "Zelensky", "conflict", ""),
    ("Vladimir Putin", "Putin", "conflict", ""),
    ("Xi Jinping", "Xi Jinping", "economy", ""),
    ("Narendra Modi", "Modi", "politics", "en"),
    ("Recep Tayyip Erdoğan", "Erdoğan", "politics", ""),
    ("Benjamin Netanyahu", "Netanyahu", "conflict", ""),
    ("António Guterres", "Guterres", "conflict", ""),
    ("Giorgia Meloni", "Meloni", "migration", ""),
    ("Elon Musk", "Musk", "tech", ""),
    ("Sam Altman", "Altman", "tech", "en"),
    ("Mark Zuckerberg", "Zuckerberg", "tech", "en"),
    ("Jensen Huang", "Huang", "tech", "en"),
    ("Greta Thunberg", "Thunberg", "energy", ""),
    ("Lionel Messi", "Messi", "sport", "es"),
    ("Kylian Mbappé", "Mbappé", "sport", "fr"),
    ("Carlos Alcaraz", "Alcaraz", "sport", "es"),
    ("Rafael Nadal", "Nadal", "sport", "es"),
    ("Thomas Tuchel", "Tuchel", "sport", "de"),
    ("Venezuela", "Venezuela", "politics", "es"),
    ("Caracas", "Caracas", "politics", "es"),
    ("Bogotá", "Bogotá", "politics", "es"),
    ("Ciudad de México", "México", "politics", "es"),
    ("Buenos Aires", "Buenos Aires", "economy", "es"),
    ("São Paulo", "São Paulo", "economy", "es"),
    ("Perú", "Perú", "politics", "es"),
    ("Panamá", "Panamá", "economy", "es"),
    ("Cataluña", "Cataluña", "politics", "es"),
    ("Andalucía", "Andalucía", "energy", "es"),
    ("Madrid", "Madrid", "politics", "es"),
    ("Barcelona", "Barcelona", "culture", "es"),
    ("Berlin", "Berlin", "politics", "de"),
    ("München", "München", "culture", "de"),
    ("Düsseldorf", "Düsseldorf", "economy", "de"),
    ("Köln", "Köln", "culture", "de"),
    ("Baden-Württemberg", "Baden-Württemberg", "politics", "de"),
    ("Zürich", "Zürich", "economy", "de"),
    ("Wien", "Wien", "culture", "de"),
    ("Paris", "Paris", "politics", "fr"),
    ("Marseille", "Marseille", "justice", "fr"),
    ("Île-de-France", "Île-de-France", "politics", "fr"),
    ("Saint-Étienne", "Saint-Étienne", "sport", "fr"),
    ("Montréal", "Montréal", "culture", "fr"),
    ("Québec", "Québec", "politics", "fr"),
    ("Côte d'Ivoire", "Côte d'Ivoire", "migration", "fr"),
    ("Washington", "Washington", "politics", "en"),
    ("New York", "New York", "economy", "en"),
    ("London", "London", "politics", "en"),
    ("Ukraine", "Ukraine", "conflict", ""),
    ("Gaza", "Gaza", "conflict", ""),
    ("Israel", "Israel", "conflict", ""),
    ("China", "China", "economy", ""),
    ("Taiwan", "Taiwan", "tech", ""),
    ("Lampedusa", "Lampedusa", "migration", ""),
    ("NATO", "NATO", "conflict", "en"),
    ("OTAN", "OTAN", "conflict", "es"),
    ("Federal Reserve", "Fed", "economy", "en"),
    ("European Central Bank", "ECB", "economy", "en"),
    ("Bundesbank", "Bundesbank", "economy", "de"),
    ("Bundestag", "Bundestag", "politics", "de"),
    ("Bundesverfassungsgericht", "Karlsruhe", "justice", "de"),
    ("Assemblée nationale", "Assemblée", "politics", "fr"),
    ("Conseil constitutionnel", "Conseil constitutionnel", "justice", "fr"),
    ("Élysée", "Élysée", "politics", "fr"),
    ("Congreso de los Diputados", "Congreso", "politics", "es"),
    ("Audiencia Nacional", "Audiencia Nacional", "justice", "es"),
    ("Casa Rosada", "Casa Rosada", "politics", "es"),
    ("International Monetary Fund", "IMF", "economy", "en"),
    ("Fondo Monetario Internacional", "FMI", "economy", "es"),
    ("OPEC", "OPEC", "energy", ""),
    ("United Nations", "UN", "conflict", "en"),
    ("Naciones Unidas", "ONU", "conflict", "es"),
    ("Vereinte Nationen", "UNO", "conflict", "de"),
    ("World Health Organization", "WHO", "health", "en"),
    ("Organización Mundial de la Salud", "OMS", "health", "es"),
    ("Volkswagen", "VW", "economy", "de"),
    ("Siemens", "Siemens", "tech", "de"),
    ("Deutsche Bahn", "Bahn", "economy", "de"),
    ("Lufthansa", "Lufthansa", "economy", "de"),
    ("Renault", "Renault", "economy", "fr"),
    ("TotalEnergies", "TotalEnergies", "energy", "fr"),
    ("LVMH", "LVMH", "economy", "fr"),
    ("Airbus", "Airbus", "economy", "fr"),
    ("Telefónica", "Telefónica", "tech", "es"),
    ("Banco Santander", "Santander", "economy", "es"),
    ("Iberdrola", "Iberdrola", "energy", "es"),
    ("Pemex", "Pemex", "energy", "es"),
    ("Petrobras", "Petrobras", "energy", "es"),
    ("PDVSA", "PDVSA", "energy", "es"),
    ("Apple", "Apple", "tech", "en"),
    ("Google", "Google", "tech", ""),
    ("Microsoft", "Microsoft", "tech", ""),
    ("OpenAI", "OpenAI", "tech", ""),
    ("Nvidia", "Nvidia", "tech", ""),
    ("Tesla", "Tesla", "tech", ""),
    ("Amazon", "Amazon", "tech", ""),
    ("AT&T", "AT&T", "tech", "en"),
    ("TikTok", "TikTok", "tech", ""),
    ("Real Madrid", "Real Madrid", "sport", "es"),
    ("FC Barcelona", "Barça", "sport", "es"),
    ("Bayern München", "Bayern", "sport", "de"),
    ("Paris Saint-Germain", "PSG", "sport", "fr"),
    ("Roland-Garros", "Roland-Garros", "sport", "fr"),
    ("Tour de France", "Tour de France", "sport", "fr"),
    ("Brexit", "Brexit", "politics", "en"),
    ("G7", "G7", "economy", ""),
    ("G20", "G20", "economy", ""),
    ("COP29", "COP29", "energy", ""),
)

# People quoted in passing: a long tail of names, per language.
FIRST_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "en": _words("John Sarah Michael Emily David Jessica James Laura Robert Anna Daniel Rachel"),
    "es": _words("María José Lucía Javier Sofía Andrés Carmen Raúl Inés Martín Begoña Íñigo"),
    "de": _words("Thomas Katrin Jürgen Sabine Stefan Ulrike Jörg Claudia Matthias Anke Björn"),
    "fr": _words("Jean Marie Hélène François Élodie Stéphane Cécile Benoît Anaïs Jérôme Noël"),
}
LAST_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "en": _words("Smith Johnson Williams Brown Miller Davis Wilson Taylor Clarke Walker O'Brien"),
    "es": _words("García Fernández González Rodríguez López Martínez Pérez Gómez Muñoz Ibáñez"),
    "de": _words("Müller Schmidt Schneider Fischer Weiß Wagner Becker Schäfer Krüger Köhler"),
    "fr": _words("Martin Bernard Dubois Lefèvre Girard Lemaître Roux Moreau Fournier Boulanger"),
}
# How each language introduces a quote: "..., said NAME" and "NAME said".
SAID: Final[dict[str, tuple[str, ...]]] = {
    "en": ("said", "told reporters", "added", "warned"),
    "es": ("dijo", "afirmó", "explicó", "señaló"),
    "de": ("sagte", "erklärte", "betonte", "sagt"),
    "fr": ("a déclaré", "a expliqué", "a affirmé", "estime"),
}
# German compounds: parts combined into a long tail of rare nouns (Energiepreis...).
DE_COMPOUND_HEADS: Final = _words(
    "Energie Gas Strom Miet Lohn Steuer Renten Bundes Landes Stadt Klima Gesundheits "
    "Verkehrs Bahn Auto Bau Schul Kinder Sicherheits Wirtschafts Finanz Handels Asyl"
)
DE_COMPOUND_TAILS: Final = _words(
    "preis preise krise gesetz reform politik plan debatte streit gipfel bericht markt "
    "minister behörde verband branche kosten paket verfahren urteil"
)
