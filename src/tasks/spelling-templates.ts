// How users ask SpellingBee questions: several phrasings in English and a few other languages
// (the reference also mixed languages), so the model learns the skill rather than one sentence.
// {letter} and {word} are filled in (possibly quoted); a "?" may be appended.

export const SPELLING_BEE_TEMPLATES: readonly string[] = [
  // English
  'How many {letter} are in the word {word}',
  'How many {letter} are in {word}',
  'How many times does the letter {letter} appear in {word}',
  'How many times does {letter} occur in the word {word}',
  'Count the number of {letter} in {word}',
  'Count how many {letter} there are in the word {word}',
  'In the word {word}, how many {letter} are there',
  'What is the count of the letter {letter} in {word}',
  'Tell me how many {letter} the word {word} contains',
  'How often does {letter} show up in {word}',
  'Number of {letter} in {word}',
  'Can you count the {letter} in {word}',
  'I need to know how many {letter} are in {word}',
  'Please count the letter {letter} in the word {word}',
  'How many letter {letter} does {word} have',
  // Spanish
  '¿Cuántas {letter} hay en la palabra {word}',
  'Cuenta cuántas veces aparece la letra {letter} en {word}',
  // French
  'Combien de {letter} y a-t-il dans le mot {word}',
  'Compte le nombre de {letter} dans {word}',
  // German
  'Wie viele {letter} sind im Wort {word}',
  'Wie oft kommt der Buchstabe {letter} in {word} vor',
  // Italian
  'Quante {letter} ci sono nella parola {word}',
  // Portuguese
  'Quantas letras {letter} existem na palavra {word}',
  // Chinese
  '单词{word}中有几个{letter}',
  '{word}这个词里字母{letter}出现了几次',
  // Japanese
  '{word}という単語に{letter}はいくつありますか',
  // Korean
  '{word}라는 단어에 {letter}가 몇 개 있나요',
];
